using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Average-pooling backward for every window but 2x2 stride 2 (<see cref="Pooling2x2"/>), one plane at a time, as
/// gathers instead of scatters so that each input is written once and every step is a vector sum:
/// <list type="number">
/// <item>shares = dy / divisor for the whole output plane (one vector division per V outputs);</item>
/// <item>per output row i, its shares laid out at stride sW in a zeroed line z, so that the row's spread along the input
/// columns, spread_i[c] = the sum of share_ij over the windows j covering c, is the sum of KW shifted copies of z;</item>
/// <item>per input row r, dx[r] = the sum of spread_i over the output rows i whose windows cover r.</item>
/// </list>
/// Every sum starts at +0 and adds in output order (j, then i ascending), which is the order of the separable
/// definition: clear dx; per output row, clear a line, add each share to its window's columns in j order, then add
/// the line to each input row of the window. The zeros of z add nothing (a sum started at +0 is never -0), so the
/// bits are those of that definition at every SIMD width and thread count; within a few roundings of
/// <see cref="PoolingReference"/>'s double sums.
/// </summary>
internal static unsafe class PoolingAvgBackward
{
    /// <summary>(OH, OW): each output's divisor as a float (a small integer, exact).</summary>
    public static float[] Divisors(in Pool2dGeometry g, bool countIncludePad)
    {
        var divisors = new float[g.OutHeight * g.OutWidth];
        for (int i = 0; i < g.OutHeight; i++)
        {
            Span(g.StrideHeight, g.PadHeight, g.KernelHeight, g.InHeight, i, out int rows, out int realRows);
            for (int j = 0; j < g.OutWidth; j++)
            {
                Span(g.StrideWidth, g.PadWidth, g.KernelWidth, g.InWidth, j, out int columns, out int realColumns);
                divisors[i * g.OutWidth + j] = countIncludePad ? rows * columns : realRows * realColumns;
            }
        }
        return divisors;
    }

    /// <summary>dx of planes [p0, p1) from dy, with <see cref="Divisors"/>.</summary>
    // dy: (P, OH, OW); divisors: (OH, OW); dx: (P, H, W) overwritten
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Planes(Pool2dGeometry g, float[] divisors, int p0, int p1, float* dy, float* dx)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, kw = g.KernelWidth, sw = g.StrideWidth;
        int plane = h * w, outPlane = oh * ow, width = SimdWidth.Max;
        // z[zeroAt + sW*j] = share_ij; spread_i[c] = z[c + pW - (KW-1) + zeroAt ...] summed over KW consecutive entries.
        int zeroAt = kw - 1, zLength = kw - 1 + w + g.PadWidth;
        float[] line = new float[zLength], spreadRows = new float[oh * w], shareRows = new float[outPlane];
        fixed (float* z = line, spread = spreadRows, shares = shareRows, divisor = divisors)
        {
            for (int p = p0; p < p1; p++)
            {
                Divide(width, dy + (long)p * outPlane, divisor, shares, outPlane);
                for (int i = 0; i < oh; i++)
                {
                    float* share = shares + i * ow;
                    if (sw == 1) new ReadOnlySpan<float>(share, ow).CopyTo(new Span<float>(z + zeroAt, ow));
                    else for (int j = 0; j < ow; j++) z[zeroAt + sw * j] = share[j];
                    Sum(width, spread + i * w, z + zeroAt + g.PadWidth - (kw - 1), kw, 1, w);
                }
                float* d = dx + (long)p * plane;
                for (int r = 0; r < h; r++)
                {
                    // Output rows i with i*sH - pH <= r < i*sH - pH + KH.
                    int above = r + g.PadHeight - g.KernelHeight + 1;
                    int first = above <= 0 ? 0 : (above + g.StrideHeight - 1) / g.StrideHeight;
                    int last = Math.Min(oh - 1, (r + g.PadHeight) / g.StrideHeight);
                    Sum(width, d + (long)r * w, spread + first * w, Math.Max(last - first + 1, 0), w, w);
                }
            }
        }
    }

    // dst[c] = +0 + src[c] + src[stride + c] + ... (count terms, in that order) for c in [0, n); the same at every width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum(int width, float* dst, float* src, int count, int stride, int n)
    {
        int c = 0;
        if (SimdWidth.Allows512(width))
            for (; c + 16 <= n; c += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int t = 0; t < count; t++) acc += Vector512.Load(src + t * stride + c);
                acc.Store(dst + c);
            }
        if (SimdWidth.Allows256(width))
            for (; c + 8 <= n; c += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int t = 0; t < count; t++) acc += Vector256.Load(src + t * stride + c);
                acc.Store(dst + c);
            }
        if (SimdWidth.Allows128(width))
            for (; c + 4 <= n; c += 4)
            {
                var acc = Vector128<float>.Zero;
                for (int t = 0; t < count; t++) acc += Vector128.Load(src + t * stride + c);
                acc.Store(dst + c);
            }
        for (; c < n; c++)
        {
            float acc = 0f;
            for (int t = 0; t < count; t++) acc += src[t * stride + c];
            dst[c] = acc;
        }
    }

    // q[t] = a[t] / b[t] for t in [0, n).
    private static void Divide(int width, float* a, float* b, float* q, int n)
    {
        int t = 0;
        if (SimdWidth.Allows512(width))
            for (; t + 16 <= n; t += 16) (Vector512.Load(a + t) / Vector512.Load(b + t)).Store(q + t);
        if (SimdWidth.Allows256(width))
            for (; t + 8 <= n; t += 8) (Vector256.Load(a + t) / Vector256.Load(b + t)).Store(q + t);
        if (SimdWidth.Allows128(width))
            for (; t + 4 <= n; t += 4) (Vector128.Load(a + t) / Vector128.Load(b + t)).Store(q + t);
        for (; t < n; t++) q[t] = a[t] / b[t];
    }

    // Output o's window along one axis: its size clipped to the padded input, and its real inputs.
    private static void Span(int stride, int pad, int kernel, int size, int o, out int padded, out int real)
    {
        int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
        padded = end - start;
        real = Math.Min(end, size) - Math.Max(start, 0);
    }
}
