using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>LRN, MVN, BatchNorm (with the Scale layer that usually follows it folded in), Scale, Bias and PReLU.</summary>
internal static class CaffeNormalizationExport
{
    /// <summary>
    /// ACROSS_CHANNELS is ONNX's LRN term for term: both divide α by the window size n and sum the squares of the n
    /// channels centred on each one (n is odd), so size, alpha, beta and bias = k carry over unchanged. WITHIN_CHANNEL is
    /// written as Caffe builds it: x · (1 + α · avg_pool_n×n(x²))^(−β), the average over the zero-padded window (always n²).
    /// </summary>
    public static OnnxValue Lrn(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.LrnParam ?? new LRNParameter();
        var x = c.X;
        if (x.SampleShape.Length != 3) throw c.Unsupported($"it needs a bottom (N, C, H, W), got {CaffeLayerContext.Describe(x)}.");
        int n = (int)p.LocalSize;
        if (p.NormRegion == LRNParameter.Types.NormRegion.AcrossChannels)
            return c.Unary("LRN", x, "", Int("size", n), Float("alpha", p.Alpha), Float("beta", p.Beta), Float("bias", p.K));
        int pad = (n - 1) / 2;
        var squares = c.Node("Mul", "square", [x.Name, x.Name], x.SampleShape);
        var mean = c.Unary("AveragePool", squares, "mean", Ints("kernel_shape", n, n), Ints("strides", 1, 1),
            Ints("pads", pad, pad, pad, pad), Int("count_include_pad", 1));
        var scaled = c.WithConstant("Mul", mean, p.Alpha, "alpha", "scaled");
        var denominator = c.WithConstant("Add", scaled, 1, "one", "shifted");
        var factor = c.WithConstant("Pow", denominator, -p.Beta, "minus_beta", "factor");
        return c.Node("Mul", "", [x.Name, factor.Name], x.SampleShape);
    }

    /// <summary>
    /// MVN: d = x − mean over each (item, channel), or each item with across_channels; with normalize_variance
    /// y = d / (√mean(d²) + eps) — Caffe adds eps to the deviation, not the variance. A group of one element (a bottom
    /// (N, C) per channel) is its own mean.
    /// </summary>
    public static OnnxValue Mvn(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.MvnParam ?? new MVNParameter();
        var x = c.X;
        int first = p.AcrossChannels ? 1 : 2;
        long[] axes = Enumerable.Range(first, Math.Max(0, x.Rank - first)).Select(a => (long)a).ToArray();
        int[] reduced = x.SampleShape.Select((size, i) => i + 1 >= first ? 1 : size).ToArray();
        OnnxValue Mean(OnnxValue v, string name) =>
            axes.Length == 0 ? v : c.Node("ReduceMean", name, [v.Name], reduced, Ints("axes", axes), Int("keepdims", 1));
        var mean = Mean(x, "mean");
        var centered = c.Node("Sub", p.NormalizeVariance ? "centered" : "", [x.Name, mean.Name], x.SampleShape);
        if (!p.NormalizeVariance) return centered;
        var squares = c.Node("Mul", "square", [centered.Name, centered.Name], x.SampleShape);
        var deviation = c.Unary("Sqrt", Mean(squares, "variance"), "deviation");
        var denominator = p.Eps == 0 ? deviation : c.WithConstant("Add", deviation, p.Eps, "eps", "denominator");
        return c.Node("Div", "", [centered.Name, denominator.Name], x.SampleShape);
    }

    /// <summary>
    /// y = (x − mean) / √(var + eps) with Caffe's stored statistics divided by its scale-factor blob (0 gives 0). With
    /// <paramref name="scale"/> (the Scale layer right after, over the channels) its factor and bias become
    /// BatchNormalization's; otherwise those are 1 and 0.
    /// </summary>
    public static OnnxValue BatchNorm(CaffeLayerContext c, CaffeLayer? scale)
    {
        var p = c.Layer.Definition.BatchNormParam ?? new BatchNormParameter();
        if (p.HasUseGlobalStats && !p.UseGlobalStats)
            throw c.Unsupported("use_global_stats: false normalizes by each batch's own statistics; export needs the stored ones (leave use_global_stats unset in TEST).");
        var x = c.X;
        if (x.SampleShape.Length < 1) throw c.Unsupported($"it needs a bottom (N, C, ...), got {CaffeLayerContext.Describe(x)}.");
        int channels = x.SampleShape[0];
        var blobs = c.Layer.Blobs;
        float s = blobs[2].AsSpan()[0];
        float factor = s == 0 ? 0 : 1 / s;
        string mean = c.Initializer("mean", Scaled(blobs[0], factor));
        string variance = c.Initializer("variance", Scaled(blobs[1], factor));
        string gamma, beta;
        if (scale is null)
        {
            gamma = c.Initializer("weight", Tensor.Ones(channels));
            beta = c.Initializer("bias", Tensor.Zeros(channels));
        }
        else
        {
            bool bias = (scale.Definition.ScaleParam ?? new ScaleParameter()).BiasTerm;
            gamma = c.Graph.AddInitializer(scale.Name + ".weight", scale.Blobs[0]);
            beta = c.Graph.AddInitializer(scale.Name + ".bias", bias ? scale.Blobs[1] : Tensor.Zeros(channels));
        }
        return c.Node("BatchNormalization", "", [x.Name, gamma, beta, mean, variance], x.SampleShape, Float("epsilon", p.Eps));
    }

    /// <summary>True when <paramref name="scale"/> multiplies BatchNorm's output per channel (axis 1, one axis, a learned factor).</summary>
    public static bool FoldsIntoBatchNorm(CaffeLayer scale, Shape bottom)
    {
        var p = scale.Definition.ScaleParam ?? new ScaleParameter();
        return scale.Definition.Bottom.Count == 1 && scale.Blobs.Count > 0 && scale.Blobs[0].Shape.Rank == 1
            && bottom.Rank >= 2 && scale.Blobs[0].Shape[0] == bottom[1] && (p.Axis == 1 || p.Axis == 1 - bottom.Rank);
    }

    /// <summary>
    /// Scale (y = x·s, + b with bias_term) and Bias (y = x + b): a learned blob becomes an initializer shaped to broadcast
    /// at Caffe's axes; a second bottom must span the batch axis (axis 0) and is reshaped the same way.
    /// </summary>
    public static OnnxValue ScaleOrBias(CaffeLayerContext c, bool scale)
    {
        var d = c.Layer.Definition;
        int axisParam = scale ? (d.ScaleParam ?? new ScaleParameter()).Axis : (d.BiasParam ?? new BiasParameter()).Axis;
        bool biasTerm = scale && (d.ScaleParam ?? new ScaleParameter()).BiasTerm;
        var x = c.X;
        var full = new Shape([1, .. x.SampleShape]);
        string op = scale ? "Mul" : "Add";
        string what = scale ? "scale" : "bias";
        if (c.Bottoms.Count == 2)
        {
            var other = c.Bottoms[1];
            var otherShape = new Shape([1, .. other.SampleShape]);
            int[] dims = Broadcast(c, full, axisParam, otherShape, what);
            if (!(axisParam == 0 || axisParam == -full.Rank))
                throw c.Unsupported($"its second bottom applies from axis {axisParam}; only a second bottom that spans the batch axis (axis 0) can be exported.");
            string shape = c.Int64s("shape", [0, .. dims[1..].Select(v => (long)v)]);
            var reshaped = c.Node("Reshape", "broadcast", [other.Name, shape], dims[1..]);
            var y2 = c.Node(op, biasTerm ? "unbiased" : "", [x.Name, reshaped.Name], x.SampleShape);
            return biasTerm ? c.Node("Add", "", [y2.Name, Learned(c, 0, full, axisParam, "bias")], x.SampleShape) : y2;
        }
        var y = c.Node(op, biasTerm ? "unbiased" : "", [x.Name, Learned(c, 0, full, axisParam, what)], x.SampleShape);
        return biasTerm ? c.Node("Add", "", [y.Name, Learned(c, 1, full, axisParam, "bias")], x.SampleShape) : y;
    }

    /// <summary>PReLU: a slope per channel (reshaped to (C, 1, 1...) to broadcast) or one shared slope.</summary>
    public static OnnxValue Prelu(CaffeLayerContext c)
    {
        var x = c.X;
        var slope = c.Layer.Blobs[0];
        int[] dims = slope.Shape.Rank == 0 ? [1] : [slope.Shape[0], .. Enumerable.Repeat(1, x.SampleShape.Length - 1)];
        return c.Node("PRelu", "", [x.Name, c.Initializer("slope", slope.Reshape(dims))], x.SampleShape);
    }

    // A learned blob reshaped to broadcast against (N, sample...) from Caffe's axis; named layer.weight or layer.bias.
    private static string Learned(CaffeLayerContext c, int blobIndex, Shape full, int axisParam, string what)
    {
        var blob = c.Layer.Blobs[blobIndex];
        int[] dims = Broadcast(c, full, axisParam, blob.Shape, what);
        if (dims[0] != 1) throw c.Unsupported($"its {what} {blob.Shape} spans the batch axis; the exported batch size is dynamic.");
        return c.Initializer(what == "scale" ? "weight" : "bias", blob.Reshape(dims[1..]));
    }

    private static int[] Broadcast(CaffeLayerContext c, Shape full, int axisParam, Shape blob, string what) =>
        BroadcastAxes.BroadcastShape(full, axisParam, blob, what, message => c.Unsupported(message));

    private static Tensor Scaled(Tensor blob, float factor)
    {
        var result = Tensor.Zeros(blob.Shape.ToArray());
        var source = blob.AsSpan();
        var target = result.AsSpan();
        for (int i = 0; i < source.Length; i++) target[i] = source[i] * factor;
        return result;
    }
}
