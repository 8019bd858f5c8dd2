using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Im2col: each kernel window of the bottom as a column, over <see cref="Functional.Unfold"/>. Reads kernel, stride, pad
/// and dilation from <c>convolution_param</c>; top (N, C·KH·KW, OH, OW) with the convolution's output size. Backward is col2im.
/// </summary>
public sealed class Im2colLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private ConvolutionSpec spec = null!;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ConvolutionParam ?? throw Error("convolution_param is missing.");
        if (p.Axis != 1) throw Error($"only axis 1 (channels) is supported, got axis {p.Axis}.");
        var x = bottoms[0];
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}; Im2col over {x.Rank - 2} spatial axes is not supported.");
        spec = ConvolutionSpec.Read(p, 2, Error);
        var g = new Kernels.Conv2dGeometry(x[0], x[1], x[2], x[3], 1, spec.Kernel[0], spec.Kernel[1], spec.Stride[0], spec.Stride[1],
            spec.Pad[0], spec.Pad[1], spec.Dilation[0], spec.Dilation[1], 1);
        if (g.Problem() is string problem) throw Error($"bottom {x} with {spec}: {problem}");
        long channels = (long)x[1] * spec.Kernel[0] * spec.Kernel[1];
        if (channels * x[0] * g.OutHeight * g.OutWidth > Array.MaxLength)
            throw Error($"the top ({x[0]}, {channels}, {g.OutHeight}, {g.OutWidth}) would have more elements than an array can hold.");
        return [new Shape(x[0], (int)channels, g.OutHeight, g.OutWidth)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Unfold(bottoms[0], (spec.Kernel[0], spec.Kernel[1]), (spec.Stride[0], spec.Stride[1]), (spec.Pad[0], spec.Pad[1]),
            (spec.Dilation[0], spec.Dilation[1]))];
}
