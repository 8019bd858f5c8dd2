using System.Globalization;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Embed: a lookup table. Each bottom value is a row index into the weights (input_dim, num_output) — the
/// transpose of InnerProduct's layout, as Caffe stores it — and the top is the bottom's shape with num_output
/// appended: top[..., j] = W[index, j] + b[j] (b with <c>bias_term</c>, the default). Indices arrive as floats and must
/// be whole numbers in [0, input_dim); no gradient reaches them (Caffe refuses to backpropagate to this bottom).
/// </summary>
public sealed class EmbedLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int inputDim, numOutput;
    private bool biasTerm;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.EmbedParam ?? throw Error("embed_param is missing.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        if (!p.HasInputDim || p.InputDim == 0) throw Error("input_dim must be set and positive.");
        if (p.NumOutput > int.MaxValue || p.InputDim > int.MaxValue)
            throw Error($"input_dim {p.InputDim} x num_output {p.NumOutput} is too large.");
        inputDim = (int)p.InputDim;
        numOutput = (int)p.NumOutput;
        biasTerm = p.BiasTerm;
        if (Blobs.Count == 0)
        {
            Fillers.Fill(AddBlob(Zeros(context, "weights", inputDim, numOutput)), p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(numOutput)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        else if (Blobs[0].Shape != new Shape(inputDim, numOutput))
            throw Error($"weights {Blobs[0].Shape} do not match input_dim {inputDim} x num_output {numOutput}.");
        return [new Shape([.. bottoms[0].ToArray(), numOutput])];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        var values = x.AsSpan();
        string bottom = Definition.Bottom.Count > 0 ? $"bottom '{Definition.Bottom[0]}'" : "the bottom";
        var indices = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            // A NaN fails both comparisons, so it is refused too.
            if (!(v >= 0 && v < inputDim) || v != MathF.Floor(v))
                throw Error($"{bottom} holds {v.ToString(CultureInfo.InvariantCulture)} at element {i}, " +
                            $"which is not an index in [0, {inputDim}) (input_dim {inputDim}).");
            indices[i] = (int)v;
        }
        var rows = Blobs[0].IndexSelect(0, indices);   // (M, num_output)
        if (biasTerm) rows += Blobs[1];
        return [rows.Reshape([.. x.Shape.ToArray(), numOutput])];
    }
}
