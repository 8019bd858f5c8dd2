using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Deconvolution: a transposed convolution over <see cref="Functional.ConvTranspose2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>
/// for (N, C, H, W) bottoms and <see cref="Functional.ConvTranspose3d"/> for (N, C, D, H, W). Weights (C, num_output/group, kernel...) —
/// Caffe stores the bottom's channels first — and bias (num_output). Top size per axis: (in − 1)·stride − 2·pad + dilation·(kernel − 1) + 1.
/// </summary>
public sealed class DeconvolutionLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private ConvolutionSpec spec = null!;
    private int groups;
    private bool biasTerm;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ConvolutionParam ?? throw Error("convolution_param is missing.");
        if (p.Axis != 1) throw Error($"only axis 1 (channels) is supported, got axis {p.Axis}.");
        var x = bottoms[0];
        if (x.Rank is not (4 or 5))
            throw Error($"expects a bottom (N, C, H, W) or (N, C, D, H, W), got {x}; Deconvolution over {Math.Max(x.Rank - 2, 0)} spatial axes is not supported.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        int spatial = x.Rank - 2;
        spec = ConvolutionSpec.Read(p, spatial, Error);
        groups = (int)p.Group;
        biasTerm = p.BiasTerm;
        int c = x[1], k = (int)Math.Min(p.NumOutput, int.MaxValue);
        if (groups < 1 || c % groups != 0 || k % groups != 0)
            throw Error($"group {groups} must divide both the bottom's {c} channels and num_output {k}.");
        var top = new int[x.Rank];
        top[0] = x[0];
        top[1] = k;
        for (int i = 0; i < spatial; i++)
        {
            long size = Functional.TransposedOutputSize(x[i + 2], spec.Kernel[i], spec.Stride[i], spec.Pad[i], spec.Dilation[i]);
            if (size < 1 || size > int.MaxValue) throw Error($"bottom {x} with {spec} gives a top size of {size} on axis {i + 2}: the padding is too large.");
            top[i + 2] = (int)size;
        }
        if (Blobs.Count == 0)
        {
            var w = AddBlob(Zeros(context, "weights", [c, k / groups, .. spec.Kernel]));
            Fillers.Fill(w, p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(k)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        return [new Shape(top)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => bottoms[0].Rank == 5
        ? [Functional.ConvTranspose3d(bottoms[0], Blobs[0], biasTerm ? Blobs[1] : null, Triple(spec.Stride), Triple(spec.Pad), Triple(spec.Dilation), groups)]
        : [Functional.ConvTranspose2d(bottoms[0], Blobs[0], biasTerm ? Blobs[1] : null, (spec.Stride[0], spec.Stride[1]),
            (spec.Pad[0], spec.Pad[1]), (spec.Dilation[0], spec.Dilation[1]), groups)];

    private static (int, int, int) Triple(int[] v) => (v[0], v[1], v[2]);
}
