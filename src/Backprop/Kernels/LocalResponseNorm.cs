using System.Buffers;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// Local response normalization as one kernel (Caffe's LRN; PyTorch's local_response_norm across channels):
/// scale = k + a · Σ x² over a window, y = x · scale^−β, where the window is `size` neighbouring channels
/// (a = α/size) or a size x size neighbourhood in the channel's own plane (a = α/size², zero outside the
/// plane). The backward pass is dx = dy · scale^−β − 2aβ · x · Σ (dy · y / scale) over the same window (the
/// window is symmetric). One pass per step over each plane instead of the five ops (square, average pooling,
/// scale and shift, power, product) and their gradients the layer was built from, which took 29% of
/// cifar10_full's training step. Threads split the (image, channel) planes; each value is computed the same
/// way in any split. See <see cref="LocalResponseNormReference"/> for the definition as plain loops.
/// </summary>
public static unsafe class LocalResponseNorm
{
    /// <summary>y = x · scale^−β; also returns scale and scale^−β for the backward pass.</summary>
    // x, y, scale, power: (N, C, H, W), the last three overwritten
    public static void Forward(ReadOnlySpan<float> x, int n, int c, int h, int w, int size, float alpha, float beta, float k, bool acrossChannels,
        Span<float> y, Span<float> scale, Span<float> power)
    {
        Check(x.Length, n, c, h, w, size, y.Length, scale.Length, power.Length);
        float a = acrossChannels ? alpha / size : alpha / (size * size);
        fixed (float* px = x, py = y, ps = scale, pp = power)
        {
            nint ix = (nint)px, iy = (nint)py, isc = (nint)ps, ip = (nint)pp;
            int plane = h * w;
            KernelThreads.For(n * c, (s, e) =>
            {
                float[] rows = ArrayPool<float>.Shared.Rent(plane);
                try
                {
                    for (int u = s; u < e; u++)
                    {
                        var sums = new Span<float>((float*)isc + (long)u * plane, plane);
                        // sums = Σ x² over the window, then scale = k + a·sums
                        WindowSum((float*)ix, u, c, h, w, size, acrossChannels, square: true, sums, rows);
                        TensorPrimitives.Multiply(sums, a, sums);
                        TensorPrimitives.Add(sums, k, sums);
                        var pw = new Span<float>((float*)ip + (long)u * plane, plane);
                        // scale^−β as exp(−β · log scale): vectorized (TensorPrimitives.Pow ran element by element, 2x the whole op)
                        TensorPrimitives.Log(sums, pw);
                        TensorPrimitives.Multiply(pw, -beta, pw);
                        TensorPrimitives.Exp(pw, pw);
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>((float*)ix + (long)u * plane, plane), pw, new Span<float>((float*)iy + (long)u * plane, plane));
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rows);
                }
            });
        }
    }

    /// <summary>dx = dy · scale^−β − 2aβ · x · Σ (dy · y / scale) over the window.</summary>
    // x, y, scale, power (from Forward), dy, dx: (N, C, H, W), dx overwritten
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> scale, ReadOnlySpan<float> power,
        ReadOnlySpan<float> dy, int n, int c, int h, int w, int size, float alpha, float beta, bool acrossChannels, Span<float> dx)
    {
        Check(x.Length, n, c, h, w, size, y.Length, scale.Length, power.Length);
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"LocalResponseNorm.Backward: dy of {dy.Length} or dx of {dx.Length} elements, x of {x.Length}.");
        float a = acrossChannels ? alpha / size : alpha / (size * size);
        float factor = -2f * a * beta;
        int plane = h * w;
        float[] ratio = ArrayPool<float>.Shared.Rent(x.Length);   // dy · y / scale, for every plane a window reads
        try
        {
            fixed (float* px = x, py = y, ps = scale, pp = power, pg = dy, pd = dx, pr = ratio)
            {
                nint ix = (nint)px, iy = (nint)py, isc = (nint)ps, ip = (nint)pp, ig = (nint)pg, id = (nint)pd, ir = (nint)pr;
                KernelThreads.For(n * c, (s, e) =>
                {
                    for (int u = s; u < e; u++)
                    {
                        long o = (long)u * plane;
                        var r = new Span<float>((float*)ir + o, plane);
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>((float*)ig + o, plane), new ReadOnlySpan<float>((float*)iy + o, plane), r);
                        TensorPrimitives.Divide(r, new ReadOnlySpan<float>((float*)isc + o, plane), r);
                    }
                });
                KernelThreads.For(n * c, (s, e) =>
                {
                    float[] rows = ArrayPool<float>.Shared.Rent(plane);
                    try
                    {
                        for (int u = s; u < e; u++)
                        {
                            long o = (long)u * plane;
                            var d = new Span<float>((float*)id + o, plane);
                            // d = Σ ratio over the window; dx = dy · scale^−β + factor · x · d
                            WindowSum((float*)ir, u, c, h, w, size, acrossChannels, square: false, d, rows);
                            TensorPrimitives.Multiply(new ReadOnlySpan<float>((float*)ix + o, plane), d, d);
                            TensorPrimitives.Multiply(d, factor, d);
                            TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<float>((float*)ig + o, plane), new ReadOnlySpan<float>((float*)ip + o, plane), d, d);
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(rows);
                    }
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ratio);
        }
    }

    /// <summary>
    /// sums = Σ v (or v²) over plane u's window: the `size` channels around u's channel (within the image), or the
    /// size x size neighbourhood of each pixel in u's own plane (zero outside it), summed along rows, then columns.
    /// </summary>
    // values: (N, C, H, W); sums: (H, W) overwritten; rows: scratch of H*W
    private static void WindowSum(float* values, int u, int c, int h, int w, int size, bool acrossChannels, bool square, Span<float> sums, float[] rows)
    {
        int plane = h * w, half = size / 2;
        if (acrossChannels)
        {
            int channel = u % c, image = u / c;
            sums.Clear();
            for (int cc = Math.Max(0, channel - half); cc <= Math.Min(c - 1, channel + half); cc++)
            {
                var v = new ReadOnlySpan<float>(values + ((long)image * c + cc) * plane, plane);
                if (square) TensorPrimitives.FusedMultiplyAdd(v, v, sums, sums);
                else TensorPrimitives.Add(v, sums, sums);
            }
            return;
        }
        // Along each row: the row (or its squares) with `half` zeros on each side, summed at each of the `size` shifts.
        float* v0 = values + (long)u * plane;
        var across = rows.AsSpan(0, plane);
        int paddedLength = w + 2 * half;
        float[]? rented = paddedLength <= 1024 ? null : ArrayPool<float>.Shared.Rent(paddedLength);
        Span<float> padded = rented is null ? stackalloc float[paddedLength] : rented.AsSpan(0, paddedLength);
        padded.Clear();
        for (int i = 0; i < h; i++)
        {
            var row = new ReadOnlySpan<float>(v0 + (long)i * w, w);
            var inside = padded.Slice(half, w);
            if (square) TensorPrimitives.Multiply(row, row, inside);
            else row.CopyTo(inside);
            var t = across.Slice(i * w, w);
            padded.Slice(0, w).CopyTo(t);
            for (int shift = 1; shift < size; shift++) TensorPrimitives.Add(padded.Slice(shift, w), t, t);
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        sums.Clear();
        for (int i = 0; i < h; i++)
            for (int ii = Math.Max(0, i - half); ii <= Math.Min(h - 1, i + half); ii++)
                TensorPrimitives.Add(across.Slice(ii * w, w), sums.Slice(i * w, w), sums.Slice(i * w, w));
    }

    private static void Check(int length, int n, int c, int h, int w, int size, int y, int scale, int power)
    {
        if (size < 1 || size % 2 == 0) throw new ArgumentException($"LocalResponseNorm: the window size must be odd and positive, got {size}.");
        if ((long)n * c * h * w != length || y != length || scale != length || power != length)
            throw new ArgumentException($"LocalResponseNorm: x of {length} elements for (N, C, H, W) = ({n}, {c}, {h}, {w}), y {y}, scale {scale}, power {power}.");
    }
}
