using Backprop.Kernels;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Convolution: weights (num_output, C/group, kernel...) and bias (num_output). Over 2 spatial axes (N, C, H, W) it runs
/// Functional.Conv2d; over 3 (N, C, D, H, W) Functional.Conv3d; over 1 (N, C, L) Conv2d on a plane of height 1.
/// </summary>
public sealed class ConvolutionLayer(LayerParameter definition) : CaffeLayer(definition), IFusesRelu
{
    private ConvolutionSpec spec = null!;
    private int groups;
    private bool biasTerm;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ConvolutionParam ?? throw Error("convolution_param is missing.");
        if (p.Axis != 1) throw Error($"only axis 1 (channels) is supported, got axis {p.Axis}.");
        var x = bottoms[0];
        int spatial = x.Rank - 2;
        if (spatial is < 1 or > 3)
            throw Error($"expects a bottom (N, C, spatial...) with 1, 2 or 3 spatial axes, got {x} ({Math.Max(spatial, 0)}); " +
                "Backprop's convolution covers 1-D, 2-D and 3-D.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        spec = ConvolutionSpec.Read(p, spatial, Error);
        groups = (int)p.Group;
        biasTerm = p.BiasTerm;
        int c = x[1], k = (int)Math.Min(p.NumOutput, int.MaxValue);
        int[] top;
        if (spatial == 3)
        {
            var g = new Conv3dGeometry(x[0], c, (x[2], x[3], x[4]), k, Triple(spec.Kernel), Triple(spec.Stride), Triple(spec.Pad), Triple(spec.Dilation), groups);
            if (g.Problem() is string problem) throw Error($"bottom {x} with num_output {k}, {spec}, group {groups}: {problem}");
            var o = g.Output;
            top = [x[0], k, o.D, o.H, o.W];
        }
        else
        {
            // The output-size rule and the geometry checks belong to Conv2dGeometry; this layer adds its name and Caffe's field names.
            var g = Plane(x[0], c, spatial == 2 ? x[2] : 1, x[x.Rank - 1], k);
            if (g.Problem() is string problem) throw Error($"bottom {x} with num_output {k}, {spec}, group {groups}: {problem}");
            top = spatial == 2 ? [x[0], k, g.OutHeight, g.OutWidth] : [x[0], k, g.OutWidth];
        }
        if (Blobs.Count == 0)
        {
            var w = AddBlob(Zeros(context, "weights", [k, c / groups, .. spec.Kernel]));
            Fillers.Fill(w, p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(k)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        return [new Shape(top)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        Tensor? bias = biasTerm ? Blobs[1] : null;
        switch (x.Rank)
        {
            case 5:
                return [Functional.Conv3d(x, Blobs[0], bias, Triple(spec.Stride), Triple(spec.Pad), Triple(spec.Dilation), groups)];
            case 4:
                return [Functional.Conv2d(x, Blobs[0], bias, (spec.Stride[0], spec.Stride[1]), (spec.Pad[0], spec.Pad[1]), (spec.Dilation[0], spec.Dilation[1]), groups)];
            default:
                // 1-D: the same convolution over a plane one row high.
                var w = Blobs[0];
                var y = Functional.Conv2d(x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]), w.Reshape(w.Shape[0], w.Shape[1], 1, w.Shape[2]), bias,
                    (1, spec.Stride[0]), (0, spec.Pad[0]), (1, spec.Dilation[0]), groups);
                return [y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3])];
        }
    }

    /// <summary>2-D convolutions run a following ReLU inside the convolution (Functional.Conv2dRelu).</summary>
    bool IFusesRelu.CanFuseRelu => spec is not null && spec.Kernel.Length == 2;

    IReadOnlyList<Tensor> IFusesRelu.ForwardRelu(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        if (x.Rank != 4) return [Functional.Relu(Forward(bottoms, context, layerIndex)[0])];
        Tensor? bias = biasTerm ? Blobs[1] : null;
        return [Functional.Conv2dRelu(x, Blobs[0], bias, (spec.Stride[0], spec.Stride[1]), (spec.Pad[0], spec.Pad[1]), (spec.Dilation[0], spec.Dilation[1]), groups)];
    }

    /// <summary>The 2-D geometry; a 1-D convolution uses height 1 with a kernel one row high.</summary>
    private Conv2dGeometry Plane(int n, int c, int h, int w, int k) => spec.Kernel.Length == 2
        ? new Conv2dGeometry(n, c, h, w, k, spec.Kernel[0], spec.Kernel[1], spec.Stride[0], spec.Stride[1], spec.Pad[0], spec.Pad[1], spec.Dilation[0], spec.Dilation[1], groups)
        : new Conv2dGeometry(n, c, 1, w, k, 1, spec.Kernel[0], 1, spec.Stride[0], 0, spec.Pad[0], 1, spec.Dilation[0], groups);

    private static (int, int, int) Triple(int[] v) => (v[0], v[1], v[2]);
}
