namespace Backprop.Onnx.Import;

/// <summary>Conv, ConvTranspose and the pooling operators: 2-D only, attributes read once at import.</summary>
internal static class OnnxConvOperators
{
    /// <summary>The spatial attributes every window operator shares, checked to be 2-D.</summary>
    private sealed record Window((int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Dilation, int[] Pads, string AutoPad);

    private static Window ReadWindow(OnnxNodeContext c, (int H, int W)? kernelFromWeight)
    {
        var k = c.Ints("kernel_shape");
        if (k is null && kernelFromWeight is null) throw c.Error("it has no kernel_shape.");
        (int H, int W) kernel = k is null ? kernelFromWeight!.Value : Pair(c, k, "kernel_shape");
        (int H, int W) stride = Pair(c, c.Ints("strides") ?? [1, 1], "strides");
        (int H, int W) dilation = Pair(c, c.Ints("dilations") ?? [1, 1], "dilations");
        var pads = c.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4) throw c.Error($"pads has {pads.Length} values; only 2-D windows (4 pads) are supported.");
        if (pads.Any(p => p < 0)) throw c.Error($"pads [{string.Join(", ", pads)}] must not be negative.");
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1)
            throw c.Error($"kernel {kernel}, strides {stride} and dilations {dilation} must be positive.");
        string autoPad = c.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID")) throw c.Error($"auto_pad '{autoPad}' is not one ONNX defines.");
        return new(kernel, stride, dilation, [.. pads.Select(p => c.ToInt(p, "pad"))], autoPad);
    }

    private static (int, int) Pair(OnnxNodeContext c, long[] values, string what) =>
        values.Length == 2 ? (c.ToInt(values[0], what), c.ToInt(values[1], what))
            : throw c.Error($"{what} has {values.Length} values; only 2-D operators (N, C, H, W) are supported.");

    /// <summary>A Conv node: its window read and checked once; the kernel that runs it, and its fused inference form.</summary>
    public static OnnxConvolution Conv(OnnxNodeContext c)
    {
        var weight = c.ConstantInput(1, "weight") ?? throw c.Error("it has no weight.");
        if (weight.Dims.Length != 4) throw c.Error($"weight has shape [{string.Join(", ", weight.Dims)}]; only 2-D convolution is supported.");
        var w = ReadWindow(c, (weight.Dims[2], weight.Dims[3]));
        return new OnnxConvolution(c, w.Kernel, w.Stride, w.Dilation, w.Pads, w.AutoPad, c.ToInt(c.Int("group", 1), "group"));
    }

    /// <summary>
    /// ConvTranspose: the full transposed convolution, then pads cropped (begin, end − output_padding) so that
    /// output = stride·(in − 1) + output_padding + dilation·(kernel − 1) + 1 − pad_begin − pad_end, as ONNX defines.
    /// </summary>
    public static OnnxKernel ConvTranspose(OnnxNodeContext c)
    {
        var weight = c.ConstantInput(1, "weight") ?? throw c.Error("it has no weight.");
        if (weight.Dims.Length != 4) throw c.Error($"weight has shape [{string.Join(", ", weight.Dims)}]; only 2-D transposed convolution is supported.");
        var w = ReadWindow(c, (weight.Dims[2], weight.Dims[3]));
        if (w.AutoPad is "SAME_UPPER" or "SAME_LOWER") throw c.Error($"auto_pad {w.AutoPad} is not supported for ConvTranspose; export with explicit pads.");
        if (c.Attribute("output_shape") is not null) throw c.Error("output_shape is not supported; export with explicit pads and output_padding.");
        var outputPadding = Pair(c, c.Ints("output_padding") ?? [0, 0], "output_padding");
        int groups = c.ToInt(c.Int("group", 1), "group");
        var pads = w.AutoPad == "VALID" ? [0, 0, 0, 0] : w.Pads;
        bool symmetric = outputPadding == (0, 0) && pads[0] == pads[2] && pads[1] == pads[3];
        return c.Named((x, _) =>
        {
            var bias = x.Length > 2 ? x[2] : null;
            if (symmetric) return Functional.ConvTranspose2d(x[0]!, x[1]!, bias, w.Stride, (pads[0], pads[1]), w.Dilation, groups);
            var y = Functional.ConvTranspose2d(x[0]!, x[1]!, null, w.Stride, (0, 0), w.Dilation, groups);
            y = OnnxPadding.Pad(y, [0, 0, -pads[0], -pads[1]], [0, 0, outputPadding.Item1 - pads[2], outputPadding.Item2 - pads[3]], 0f);
            return bias is null ? y : y + bias.Reshape(1, bias.Length, 1, 1);
        });
    }

    public static OnnxKernel MaxPool(OnnxNodeContext c)
    {
        var w = ReadWindow(c, null);
        if (w.Dilation != (1, 1)) throw c.Error("dilated max pooling is not supported.");
        c.SingleOutput("Indices");
        bool ceil = c.Int("ceil_mode", 0) != 0;
        return c.Named((x, _) =>
        {
            var pads = OnnxPadding.Resolve(w.AutoPad, w.Pads, x[0]!.Shape, w.Kernel, w.Stride, w.Dilation);
            // The core op takes at most half a window of padding; more is padded here with −∞, which never wins.
            bool coreMayPad = 2 * Math.Max(pads[0], pads[2]) <= w.Kernel.H && 2 * Math.Max(pads[1], pads[3]) <= w.Kernel.W;
            var (input, padding) = OnnxPadding.Spatial(x[0]!, pads, float.NegativeInfinity, coreMayPad);
            return Functional.MaxPool2d(input, w.Kernel, w.Stride, padding, ceil);
        });
    }

    public static OnnxKernel AveragePool(OnnxNodeContext c)
    {
        var w = ReadWindow(c, null);
        if (w.Dilation != (1, 1)) throw c.Error("dilated average pooling is not supported.");
        bool ceil = c.Int("ceil_mode", 0) != 0, includePad = c.Int("count_include_pad", 0) != 0;
        return c.Named((x, _) =>
        {
            var pads = OnnxPadding.Resolve(w.AutoPad, w.Pads, x[0]!.Shape, w.Kernel, w.Stride, w.Dilation);
            bool symmetric = pads[0] == pads[2] && pads[1] == pads[3];
            // Zeros padded here would be counted, so only count_include_pad=1 can pad asymmetrically.
            if (!symmetric && !includePad)
                throw new ArgumentException($"asymmetric pads [{string.Join(", ", pads)}] with count_include_pad=0 are not supported.");
            var (input, padding) = OnnxPadding.Spatial(x[0]!, pads, 0f);
            return Functional.AvgPool2d(input, w.Kernel, w.Stride, padding, ceil, includePad);
        });
    }

    public static OnnxKernel GlobalAveragePool(OnnxNodeContext c) => c.Named((x, _) => Functional.GlobalAvgPool2d(x[0]!));
}
