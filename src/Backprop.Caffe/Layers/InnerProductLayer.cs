using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's InnerProduct: flattens the bottom from <c>axis</c> on and applies weights (num_output, K)
/// — or (K, num_output) with <c>transpose: true</c> — and a bias (num_output).
/// </summary>
public sealed class InnerProductLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis, inputs;
    private bool transpose, biasTerm;
    private int[] outDims = [];

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.InnerProductParam ?? throw Error("inner_product_param is missing.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        var x = bottoms[0];
        axis = x.NormalizeAxis(p.Axis);
        inputs = 1;
        for (int i = axis; i < x.Rank; i++) inputs *= x[i];
        int n = (int)p.NumOutput;
        transpose = p.Transpose;
        biasTerm = p.BiasTerm;
        if (Blobs.Count == 0)
        {
            var w = AddBlob(transpose ? Zeros(context, "weights", inputs, n) : Zeros(context, "weights", n, inputs));
            Fillers.Fill(w, p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(n)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        else if (Blobs[0].Length != inputs * n)
            throw Error($"weights {Blobs[0].Shape} do not fit a bottom {x} flattened from axis {axis} to {inputs} inputs.");
        outDims = [.. x.ToArray()[..axis], n];
        return [new Shape(outDims)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var dims = bottoms[0].Shape.ToArray()[..axis];
        var x = bottoms[0].Reshape([.. dims, inputs]);
        Tensor y = transpose
            ? (biasTerm ? x.MatMul(Blobs[0]) + Blobs[1] : x.MatMul(Blobs[0]))
            : Functional.Linear(x, Blobs[0], biasTerm ? Blobs[1] : null);
        return [y];
    }
}
