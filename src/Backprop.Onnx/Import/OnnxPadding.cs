namespace Backprop.Onnx.Import;

/// <summary>
/// Explicit padding for ONNX's Pad and for the asymmetric pads that Conv and pooling allow but core ops do not:
/// pieces filled with a constant are concatenated on each side (so autograd passes through), negative pads crop.
/// </summary>
internal static class OnnxPadding
{
    /// <summary>Pads axis i by <paramref name="begins"/>[i] before and <paramref name="ends"/>[i] after with <paramref name="value"/>.</summary>
    public static Tensor Pad(Tensor x, int[] begins, int[] ends, float value)
    {
        if (begins.Any(b => b < 0) || ends.Any(e => e < 0))
        {
            var offsets = new int[x.Rank];
            var sizes = x.Shape.ToArray();
            for (int i = 0; i < x.Rank; i++)
            {
                offsets[i] = Math.Max(0, -begins[i]);
                sizes[i] -= offsets[i] + Math.Max(0, -ends[i]);
                if (sizes[i] < 0) throw new ArgumentException($"pads ({begins[i]}, {ends[i]}) crop axis {i} of {x.Shape} below zero.");
            }
            x = x.Crop(offsets, sizes);
        }
        for (int axis = 0; axis < x.Rank; axis++)
        {
            int before = Math.Max(0, begins[axis]), after = Math.Max(0, ends[axis]);
            if (before == 0 && after == 0) continue;
            var parts = new List<Tensor>(3);
            if (before > 0) parts.Add(Filled(x, axis, before, value));
            parts.Add(x);
            if (after > 0) parts.Add(Filled(x, axis, after, value));
            x = Tensor.Concat(parts, axis);
        }
        return x;
    }

    /// <summary>
    /// Spatial padding of an (N, C, H, W) input: ONNX pads [top, left, bottom, right] when symmetric come back for the
    /// core op to apply; otherwise the input comes back padded explicitly and the core op gets zero padding.
    /// </summary>
    public static (Tensor Input, (int Height, int Width) Padding) Spatial(Tensor x, int[] pads, float value, bool coreMayPad = true)
    {
        if (coreMayPad && pads[0] == pads[2] && pads[1] == pads[3]) return (x, (pads[0], pads[1]));
        return (Pad(x, [0, 0, pads[0], pads[1]], [0, 0, pads[2], pads[3]], value), (0, 0));
    }

    /// <summary>
    /// Pads for auto_pad SAME_UPPER/SAME_LOWER (output = ceil(input / stride); the odd extra goes after for UPPER,
    /// before for LOWER), VALID (none), or the explicit <paramref name="pads"/> for NOTSET.
    /// </summary>
    public static int[] Resolve(string autoPad, int[] pads, Shape x, (int H, int W) kernel, (int H, int W) stride, (int H, int W) dilation)
    {
        switch (autoPad)
        {
            case "NOTSET": return pads;
            case "VALID": return [0, 0, 0, 0];
        }
        var result = new int[4];
        int[] size = [x[2], x[3]], k = [kernel.H, kernel.W], s = [stride.H, stride.W], d = [dilation.H, dilation.W];
        for (int i = 0; i < 2; i++)
        {
            int output = (size[i] + s[i] - 1) / s[i];
            int total = Math.Max(0, (output - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size[i]);
            int small = total / 2, large = total - small;
            (result[i], result[i + 2]) = autoPad == "SAME_LOWER" ? (large, small) : (small, large);
        }
        return result;
    }

    private static Tensor Filled(Tensor x, int axis, int size, float value)
    {
        var dims = x.Shape.ToArray();
        dims[axis] = size;
        return Tensor.Full(value, dims);
    }
}
