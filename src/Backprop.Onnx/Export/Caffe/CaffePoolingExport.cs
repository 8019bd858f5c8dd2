using Backprop.Caffe.Proto;
using Backprop.Kernels;
using static Backprop.Caffe.Proto.PoolingParameter.Types;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Caffe's Pooling as MaxPool/AveragePool with explicit pads, never ceil_mode: Caffe rounds the output size up but drops a
/// last window that would start in the right padding, a rule ONNX's ceil_mode lacks. The output size o is Caffe's; the
/// end pad e = (o − 1)·stride + kernel − size − pad (at least 0) makes ONNX's floor rule give o, and e &lt; kernel always
/// (the last window starts inside the input). For AVE, Caffe divides by the part of the window inside the padded input
/// [−pad, size + pad): where e ≤ pad that is the whole kernel (count_include_pad); where e &gt; pad the input is padded by
/// a Pad node and the pooling counts only that padded input (count_include_pad 0), so the extra end is left out.
/// STOCHASTIC is its TEST-phase form, Σx² / Σx per window (see <see cref="WeightedAverage"/>).
/// </summary>
internal static class CaffePoolingExport
{
    public static OnnxValue Pooling(CaffeLayerContext c)
    {
        var d = c.Layer.Definition;
        var p = d.PoolingParam ?? new PoolingParameter();
        var x = c.X;
        if (x.SampleShape.Length != 3) throw c.Unsupported($"it needs a bottom (N, C, H, W), got {CaffeLayerContext.Describe(x)}.");
        if (d.Top.Count > 1) throw c.Unsupported("its second top (the MAX mask) has no ONNX equivalent; drop it from the deploy net.");
        bool max = p.Pool == PoolMethod.Max;
        int channels = x.SampleShape[0], h = x.SampleShape[1], w = x.SampleShape[2];
        if (p.GlobalPooling && p.Pool == PoolMethod.Stochastic)
            return WeightedAverage(c, window => c.Unary("GlobalAveragePool", window.Value, window.Name) with { SampleShape = [channels, 1, 1] });
        if (p.GlobalPooling) return c.Unary(max ? "GlobalMaxPool" : "GlobalAveragePool", x, "") with { SampleShape = [channels, 1, 1] };

        var (kh, kw) = p.HasKernelH ? ((int)p.KernelH, (int)p.KernelW) : ((int)p.KernelSize, (int)p.KernelSize);
        var (sh, sw) = p.HasStrideH || p.HasStrideW ? ((int)p.StrideH, (int)p.StrideW) : ((int)p.Stride, (int)p.Stride);
        var (ph, pw) = p.HasPadH || p.HasPadW ? ((int)p.PadH, (int)p.PadW) : ((int)p.Pad, (int)p.Pad);
        bool ceil = p.RoundMode == RoundMode.Ceil;
        int oh = Pool2dGeometry.OutputSize(h, kh, sh, ph, ceil), ow = Pool2dGeometry.OutputSize(w, kw, sw, pw, ceil);
        if (oh < 1 || ow < 1) throw c.Unsupported($"its kernel {kh}x{kw} does not fit the bottom {CaffeLayerContext.Describe(x)}.");
        int eh = EndPad(h, kh, sh, ph, oh), ew = EndPad(w, kw, sw, pw, ow);
        int[] shape = [channels, oh, ow];
        var kernel = Ints("kernel_shape", kh, kw);
        var strides = Ints("strides", sh, sw);
        if (p.Pool == PoolMethod.Stochastic)
        {
            // No padding (the layer refuses it); the end pad only lets Caffe's rounded-up last window exist, and both
            // averages count the same cells, so their ratio is Σx² / Σx over the cells inside the input.
            return WeightedAverage(c, window => c.Node("AveragePool", window.Name, [window.Value.Name], shape, kernel, strides,
                Ints("pads", 0, 0, eh, ew), Int("count_include_pad", 0)));
        }
        if (max) return c.Node("MaxPool", "", [x.Name], shape, kernel, strides, Ints("pads", ph, pw, eh, ew));
        if (eh <= ph && ew <= pw)
            return c.Node("AveragePool", "", [x.Name], shape, kernel, strides, Ints("pads", ph, pw, eh, ew), Int("count_include_pad", 1));
        var padded = x;
        if (ph > 0 || pw > 0)
        {
            string pads = c.Int64s("pads", 0, 0, ph, pw, 0, 0, ph, pw);
            padded = c.Node("Pad", "pad", [x.Name, pads], [channels, h + 2 * ph, w + 2 * pw]);
        }
        return c.Node("AveragePool", "", [padded.Name], shape, kernel, strides,
            Ints("pads", 0, 0, Math.Max(0, eh - ph), Math.Max(0, ew - pw)), Int("count_include_pad", 0));
    }

    /// <summary>
    /// STOCHASTIC pooling in the TEST phase: each window's activation-weighted average Σx² / Σx, written as the ratio of
    /// two average pools over the same window (of x² and of x), and 0 where Σx ≤ 0 as the layer gives (Where keeps the
    /// 0/0 of an all-zero window out of the output).
    /// </summary>
    private static OnnxValue WeightedAverage(CaffeLayerContext c, Func<(OnnxValue Value, string Name), OnnxValue> average)
    {
        var x = c.X;
        var squares = c.Node("Mul", "square", [x.Name, x.Name], x.SampleShape);
        var meanSquare = average((squares, "square_mean"));
        var mean = average((x, "mean"));
        var ratio = c.Node("Div", "ratio", [meanSquare.Name, mean.Name], mean.SampleShape);
        string zero = c.Constant("zero", 0);
        var positive = c.Node("Greater", "positive", [mean.Name, zero], mean.SampleShape);
        return c.Node("Where", "", [positive.Name, ratio.Name, zero], mean.SampleShape);
    }

    // The right/bottom pad that makes floor((size + pad + end − kernel) / stride) + 1 equal Caffe's output size.
    private static int EndPad(int size, int kernel, int stride, int pad, int output) =>
        Math.Max(0, (output - 1) * stride + kernel - size - pad);
}
