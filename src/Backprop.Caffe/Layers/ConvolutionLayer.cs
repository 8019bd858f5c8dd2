using Backprop.Kernels;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Convolution: weights (num_output, C/group, KH, KW) and bias (num_output), over Functional.Conv2d.</summary>
public sealed class ConvolutionLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private (int H, int W) kernel, stride, pad, dilation;
    private int groups;
    private bool biasTerm;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ConvolutionParam ?? throw Error("convolution_param is missing.");
        if (p.Axis != 1) throw Error($"only axis 1 (channels) is supported, got axis {p.Axis}.");
        var x = bottoms[0];
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}.");
        if (!p.HasNumOutput || p.NumOutput == 0) throw Error("num_output must be set and positive.");
        kernel = Pair("kernel_size", p.KernelSize, p.HasKernelH ? (int)p.KernelH : null, p.HasKernelW ? (int)p.KernelW : null, null);
        pad = Pair("pad", p.Pad, p.HasPadH ? (int)p.PadH : null, p.HasPadW ? (int)p.PadW : null, 0);
        stride = Pair("stride", p.Stride, p.HasStrideH ? (int)p.StrideH : null, p.HasStrideW ? (int)p.StrideW : null, 1);
        dilation = Pair("dilation", p.Dilation, null, null, 1);
        groups = (int)p.Group;
        biasTerm = p.BiasTerm;
        int c = x[1], k = (int)p.NumOutput;
        // The output-size rule and the geometry checks belong to Conv2dGeometry; this layer adds its name and Caffe's field names.
        var g = new Conv2dGeometry(x[0], c, x[2], x[3], k, kernel.H, kernel.W, stride.H, stride.W, pad.H, pad.W, dilation.H, dilation.W, groups);
        if (g.Problem() is string problem)
            throw Error($"bottom {x} with num_output {k}, kernel {kernel.H}x{kernel.W}, stride {stride.H}x{stride.W}, pad {pad.H}x{pad.W}, " +
                $"dilation {dilation.H}x{dilation.W}, group {groups}: {problem}");
        if (Blobs.Count == 0)
        {
            var w = AddBlob(Zeros(context, "weights", k, c / groups, kernel.H, kernel.W));
            Fillers.Fill(w, p.WeightFiller, filler, $"{Where} weight_filler");
            if (biasTerm) Fillers.Fill(AddBlob(Tensor.Zeros(k)), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        return [new Shape(x[0], k, g.OutHeight, g.OutWidth)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Conv2d(bottoms[0], Blobs[0], biasTerm ? Blobs[1] : null, (stride.H, stride.W), (pad.H, pad.W), (dilation.H, dilation.W), groups)];

    /// <summary>Reads Caffe's spellings of a 2-D size: one repeated value for both, two for (h, w), or the _h/_w fields.</summary>
    private (int H, int W) Pair(string field, IList<uint> values, int? h, int? w, int? fallback)
    {
        if (h is not null || w is not null)
        {
            if (values.Count > 0) throw Error($"{field} and {field.Replace("_size", "")}_h/_w are both given; use one.");
            if (h is null || w is null) throw Error($"{field.Replace("_size", "")}_h and _w must be given together.");
            return Check(field, (h.Value, w.Value));
        }
        return values.Count switch
        {
            0 when fallback is not null => (fallback.Value, fallback.Value),
            0 => throw Error($"{field} is required."),
            1 => Check(field, ((int)values[0], (int)values[0])),
            2 => Check(field, ((int)values[0], (int)values[1])),
            _ => throw Error($"{field} has {values.Count} values; 2-D convolution takes 1 or 2."),
        };
    }

    private (int H, int W) Check(string field, (int H, int W) v)
    {
        bool ok = field == "pad" ? v.H >= 0 && v.W >= 0 : v.H > 0 && v.W > 0;
        return ok ? v : throw Error($"{field} {v.H}x{v.W} is out of range.");
    }
}
