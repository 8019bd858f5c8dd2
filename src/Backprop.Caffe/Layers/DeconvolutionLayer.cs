using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Deconvolution: a transposed convolution over <see cref="Functional.ConvTranspose2d(Tensor, Tensor, Tensor?, (int, int), (int, int), (int, int), int)"/>.
/// Weights (C, num_output/group, KH, KW) — Caffe stores the bottom's channels first — and bias (num_output).
/// Top size per axis: (in − 1)·stride − 2·pad + dilation·(kernel − 1) + 1.
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
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}; Deconvolution over {x.Rank - 2} spatial axes is not supported.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        spec = ConvolutionSpec.Read(p, 2, Error);
        groups = (int)p.Group;
        biasTerm = p.BiasTerm;
        int c = x[1], k = (int)Math.Min(p.NumOutput, int.MaxValue);
        if (groups < 1 || c % groups != 0 || k % groups != 0)
            throw Error($"group {groups} must divide both the bottom's {c} channels and num_output {k}.");
        long oh = Functional.TransposedOutputSize(x[2], spec.Kernel[0], spec.Stride[0], spec.Pad[0], spec.Dilation[0]);
        long ow = Functional.TransposedOutputSize(x[3], spec.Kernel[1], spec.Stride[1], spec.Pad[1], spec.Dilation[1]);
        if (oh < 1 || ow < 1 || oh > int.MaxValue || ow > int.MaxValue)
            throw Error($"bottom {x} with {spec} gives a top of {oh}x{ow}: the padding is too large.");
        if (Blobs.Count == 0)
        {
            var w = AddBlob(Zeros(context, "weights", c, k / groups, spec.Kernel[0], spec.Kernel[1]));
            Fillers.Fill(w, p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(k)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        return [new Shape(x[0], k, (int)oh, (int)ow)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.ConvTranspose2d(bottoms[0], Blobs[0], biasTerm ? Blobs[1] : null, (spec.Stride[0], spec.Stride[1]),
            (spec.Pad[0], spec.Pad[1]), (spec.Dilation[0], spec.Dilation[1]), groups)];
}
