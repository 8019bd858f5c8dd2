namespace Backprop.Keras;

/// <summary>
/// Keras's <c>"valid"</c> and <c>"same"</c> padding. Same padding (TensorFlow's rule) gives an output of
/// ceil(in / stride) and pads total = max((out − 1)·stride + kernel − in, 0), with total/2 (rounded down) before
/// and the rest after: an odd total puts the extra row at the bottom and the extra column at the right.
/// </summary>
public static class Padding
{
    /// <summary>Checks a padding name and returns it normalized.</summary>
    public static string Validate(string padding, string where)
    {
        string p = padding?.Trim().ToLowerInvariant() ?? "";
        if (p != "valid" && p != "same")
            throw new ArgumentException($"{where}: padding must be \"valid\" or \"same\", got \"{padding}\".");
        return p;
    }

    /// <summary>Output size along one axis and the padding before and after it.</summary>
    public static (int Output, int Before, int After) Compute(string padding, int input, int kernel, int stride)
    {
        if (padding == "same")
        {
            int output = (input + stride - 1) / stride;
            int total = Math.Max((output - 1) * stride + kernel - input, 0);
            return (output, total / 2, total - total / 2);
        }
        if (input < kernel) return (0, 0, 0);
        return ((input - kernel) / stride + 1, 0, 0);
    }

    /// <summary>
    /// Pads a (N, C, H, W) tensor with <paramref name="value"/>: rows above and below, columns left and right.
    /// Built from <see cref="Tensor.Concat"/>, so the gradient flows back to the input's part.
    /// </summary>
    public static Tensor Pad(Tensor x, int top, int bottom, int left, int right, float value = 0f)
    {
        if (top == 0 && bottom == 0 && left == 0 && right == 0) return x;
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var rows = new List<Tensor>(3);
        if (top > 0) rows.Add(Tensor.Full(value, n, c, top, w));
        rows.Add(x);
        if (bottom > 0) rows.Add(Tensor.Full(value, n, c, bottom, w));
        Tensor y = rows.Count == 1 ? x : Tensor.Concat(rows, 2);
        h += top + bottom;
        var cols = new List<Tensor>(3);
        if (left > 0) cols.Add(Tensor.Full(value, n, c, h, left));
        cols.Add(y);
        if (right > 0) cols.Add(Tensor.Full(value, n, c, h, right));
        return cols.Count == 1 ? y : Tensor.Concat(cols, 3);
    }
}
