using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// 3x3 stride-1 convolution with few channels (ResNet-20's 16 -> 16 layers on 32x32) as a fused Winograd F(2x2, 3x3):
/// 16 products per 2x2 output tile and channel pair instead of 36, with the input transform, the 16 small products and
/// the output transform done per block of 16 tiles (one tile per lane of a Vector512, 2 output rows by 32 columns) in
/// L1, so no transformed tile ever goes to memory beyond a few KB of scratch. <see cref="ConvolutionWinograd"/>'s
/// F(4x4, 3x3) writes its transformed tiles and products through L2 and is level with the direct path at 16 channels;
/// here each image is copied once into even- and odd-column planes (its padding made real), from which a block's
/// 4x4 input windows are plain unaligned loads. F(2x2, 3x3)'s transforms only add and subtract (the weight transform
/// halves), so its rounding stays near a direct sum's (within <see cref="ConvolutionWinograd"/>'s per-window tolerance).
/// Images are split over threads, and each output is computed the same way in any split: results are identical for
/// any <see cref="KernelThreads.Count"/>. Backward-data is the same forward on dy with the kernel flipped and the
/// channels swapped (<see cref="ConvolutionDirect.Flipped"/>). AVX-512 only (on AVX2, 16 channels already go
/// through <see cref="ConvolutionWinograd"/>).
/// </summary>
internal static unsafe class ConvolutionFusedWinograd
{
    private const int Lanes = 16;   // tiles per block, output channels per product tile

    /// <summary>Whether the fused path may run (tests compare it with the others).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The shapes <see cref="Forward"/> computes: AVX-512, groups 1, 3x3, stride and dilation 1, padding at most 2,
    /// output channels a multiple of 16, output rows an even number of pixels and at least 32 (one block of 16 tiles;
    /// a row whose tiles are not a multiple of 16 ends with a block that overlaps the one before it).
    /// </summary>
    public static bool Supports(in Conv2dGeometry g) =>
        Enabled && SimdWidth.AllowsAvx512F(SimdWidth.Max) && g.Groups == 1 && g.KernelHeight == 3 && g.KernelWidth == 3
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.PadHeight <= 2 && g.PadWidth <= 2 && g.OutChannels % Lanes == 0 && g.OutWidth % 2 == 0 && g.OutWidth >= 2 * Lanes
        && g.OutHeight >= 1;

    /// <summary>
    /// Where forward runs faster than the direct path: 16 input and output channels (ResNet-20's first stage), images
    /// enough for both threads. From 32 channels <see cref="ConvolutionWinograd"/>'s F(4x4, 3x3) saves more; rows of
    /// exactly 32 pixels go to <see cref="ConvolutionFusedWinograd44"/> first (F(4x4, 3x3) fused the same way).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) => Supports(g) && g.InChannels == 16 && g.OutChannels == 16 && g.Batch >= 2;

    /// <summary>Where backward-data (the forward of <see cref="ConvolutionDirect.Flipped"/>) runs on this path.</summary>
    public static bool AppliesToBackwardData(in Conv2dGeometry g) =>
        g.Groups == 1 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1 && g.PadHeight <= 2 && g.PadWidth <= 2 && Applies(ConvolutionDirect.Flipped(g));

    /// <summary>Whether backward-data's flipped forward is one this path computes (tests).</summary>
    internal static bool SupportsBackwardData(in Conv2dGeometry g) =>
        g.Groups == 1 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1 && g.PadHeight <= 2 && g.PadWidth <= 2 && Supports(ConvolutionDirect.Flipped(g));

    // dy: (N, K, OH, OW); weight: (K, C, 3, 3); dx: (N, C, H, W) overwritten. Needs SupportsBackwardData.
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx) =>
        ConvolutionDirect.BackwardDataByFlipped(g, dy, weight, dx, &Forward);

    // x: (N, C, H, W); weight: (K, C, 3, 3); bias: (K) or null; y: (N, K, OH, OW) overwritten. Needs Supports.
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu = false)
    {
        int c = g.InChannels, k = g.OutChannels;
        float[] transformed = ArrayPool<float>.Shared.Rent(16 * c * k + 16);
        try
        {
            fixed (float* pt = transformed)
            {
                float* u = ConvolutionImplicitGemm.Align64(pt);
                TransformWeights(c, k, weight, u);
                Conv2dGeometry geo = g;
                nint ix = (nint)x, iu = (nint)u, ib = (nint)bias, iy = (nint)y;
                KernelThreads.For(g.Batch, (s, e) => Images(geo, s, e, (float*)ix, (float*)iu, (float*)ib, (float*)iy, relu));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transformed);
        }
    }

    // u[(xi * C + c) * K + k] = (G w[k, c] G^T)[xi / 4, xi % 4], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
    private static void TransformWeights(int c, int k, float* weight, float* u)
    {
        float* t = stackalloc float[12];
        for (int kk = 0; kk < k; kk++)
            for (int cc = 0; cc < c; cc++)
            {
                float* w = weight + ((long)kk * c + cc) * 9;
                for (int j = 0; j < 3; j++)   // t = G w (4x3)
                {
                    float w0 = w[j], w1 = w[3 + j], w2 = w[6 + j];
                    t[j] = w0; t[3 + j] = 0.5f * (w0 + w1 + w2); t[6 + j] = 0.5f * (w0 - w1 + w2); t[9 + j] = w2;
                }
                for (int i = 0; i < 4; i++)   // (G w) G^T
                {
                    float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
                    u[((4 * i + 0) * c + cc) * k + kk] = t0;
                    u[((4 * i + 1) * c + cc) * k + kk] = 0.5f * (t0 + t1 + t2);
                    u[((4 * i + 2) * c + cc) * k + kk] = 0.5f * (t0 - t1 + t2);
                    u[((4 * i + 3) * c + cc) * k + kk] = t2;
                }
            }
    }

    // Images [s, e): each copied into its column planes, then its tile rows in blocks of 16 tiles.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // its loops inline the transforms: fully optimized from the first call
    private static void Images(Conv2dGeometry g, int s, int e, float* x, float* u, float* bias, float* y, bool relu)
    {
        int c = g.InChannels, k = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth;
        int tileRows = (oh + 1) / 2, tiles = ow / 2, stride = tiles + 1, rows = 2 * tileRows + 2;
        long planeLength = (long)c * rows * 2 * stride;
        float[] copy = ArrayPool<float>.Shared.Rent((int)planeLength + 64);
        float[] padded = ArrayPool<float>.Shared.Rent((int)planeLength + 64);
        float[] scratch = ArrayPool<float>.Shared.Rent(16 * Lanes * (c + k) + 16);
        try
        {
            fixed (float* pcopy = copy, ppadded = padded, pscratch = scratch)
            {
                new Span<float>(ppadded, (int)planeLength + 64).Clear();   // the padded image's borders, zero from here on
                // The products of position xi overwrite its transformed inputs once all are read (m = v) where K <= C:
                // 16 KB less in L1 beside the 16 KB of transformed weights.
                float* v = ConvolutionImplicitGemm.Align64(pscratch), m = k <= c ? v : v + 16 * Lanes * c;
                int ms = Math.Max(c, k) * Lanes;   // floats from one position's products to the next
                long imageLength = (long)c * g.InHeight * g.InWidth, outLength = (long)k * oh * ow;
                for (int n = s; n < e; n++)
                {
                    CopyPlanes(g, x + n * imageLength, ppadded, pcopy, rows, stride, n == s);
                    for (int tr = 0; tr < tileRows; tr++)
                        for (int t0 = 0; t0 < tiles; t0 += Lanes)
                        {
                            int start = Math.Min(t0, tiles - Lanes);   // a last, part block overlaps the one before
                            for (int cc = 0; cc < c; cc++)
                                InputTransform(pcopy + ((long)cc * rows + 2 * tr) * 2 * stride + start, stride, v + cc * Lanes, c * Lanes);
                            for (int xi = 0; xi < 16; xi++)
                                for (int kb = 0; kb < k; kb += Lanes)
                                    Products(c, u + (long)xi * c * k + kb, k, v + xi * c * Lanes, m + (long)xi * ms + kb * Lanes);
                            float* dst = y + n * outLength + 2 * tr * ow + 2 * start;
                            bool second = 2 * tr + 1 < oh;
                            for (int kk = 0; kk < k; kk++)
                                OutputTransform(m + kk * Lanes, ms, bias, kk, relu, dst + (long)kk * oh * ow, ow, second);
                        }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
            ArrayPool<float>.Shared.Return(padded);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // The image as (C, rows, 2, stride): each padded row's even columns, then its odd ones. The image goes inside the
    // zero borders of `padded` (C, rows, 2 stride) first, then every row is split: splitting each row straight after
    // writing it read the stores back before they were done (10% of the time, as much as half the products).
    // Rows outside the image stay zero from the first image on (`all` once per thread).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPlanes(in Conv2dGeometry g, float* image, float* padded, float* copy, int rows, int stride, bool all)
    {
        int h = g.InHeight, ph = g.PadHeight, c = g.InChannels, length = 2 * stride;
        ConvolutionDirect.CopyInside(g, image, padded, rows, length);
        Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odd = even + Vector512<int>.One;
        int r0 = all ? 0 : ph, r1 = all ? rows : ph + h;
        for (int cc = 0; cc < c; cc++)
            for (int r = r0; r < r1; r++)
            {
                float* src = padded + ((long)cc * rows + r) * length, dst = copy + ((long)cc * rows + r) * length;
                // Evens first, then odds: a last block's overrun past the evens lands where the odds then go; the odds'
                // overrun lands in the next row (written after, or a zero row given the zeros it reads) or the tail.
                for (int t = 0; t < stride; t += 16)
                    Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * t), even, Vector512.Load(src + 2 * t + 16)).Store(dst + t);
                for (int t = 0; t < stride; t += 16)
                    Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * t), odd, Vector512.Load(src + 2 * t + 16)).Store(dst + stride + t);
            }
    }

    // One channel's 16 tiles: v[xi * ldv] = (B^T d B)[xi / 4, xi % 4] for d the 4x4 windows at columns 2t .. 2t+3 of
    // padded rows 0-3 (src: row 0's evens at the block's first tile), B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTransform(float* src, int stride, float* v, int ldv)
    {
        int rowLength = 2 * stride;
        Row(src, stride, out Vector512<float> a0, out Vector512<float> a1, out Vector512<float> a2, out Vector512<float> a3);
        Row(src + rowLength, stride, out Vector512<float> b0, out Vector512<float> b1, out Vector512<float> b2, out Vector512<float> b3);
        Row(src + 2 * rowLength, stride, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3);
        Row(src + 3 * rowLength, stride, out Vector512<float> d0, out Vector512<float> d1, out Vector512<float> d2, out Vector512<float> d3);
        (a0 - c0).Store(v); (a1 - c1).Store(v + ldv); (a2 - c2).Store(v + 2 * ldv); (a3 - c3).Store(v + 3 * ldv);
        (b0 + c0).Store(v + 4 * ldv); (b1 + c1).Store(v + 5 * ldv); (b2 + c2).Store(v + 6 * ldv); (b3 + c3).Store(v + 7 * ldv);
        (c0 - b0).Store(v + 8 * ldv); (c1 - b1).Store(v + 9 * ldv); (c2 - b2).Store(v + 10 * ldv); (c3 - b3).Store(v + 11 * ldv);
        (b0 - d0).Store(v + 12 * ldv); (b1 - d1).Store(v + 13 * ldv); (b2 - d2).Store(v + 14 * ldv); (b3 - d3).Store(v + 15 * ldv);
    }

    // One padded row's 1-D transform along columns: the window's columns 2t, 2t+1, 2t+2, 2t+3 are evens[t], odds[t],
    // evens[t+1], odds[t+1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* evens, int stride, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3)
    {
        Vector512<float> d0 = Vector512.Load(evens), d1 = Vector512.Load(evens + stride);
        Vector512<float> d2 = Vector512.Load(evens + 1), d3 = Vector512.Load(evens + stride + 1);
        r0 = d0 - d2; r1 = d1 + d2; r2 = d2 - d1; r3 = d1 - d3;
    }

    // m[j * Lanes] (j < 16) = sum over c of u[c * ldu + j] * v[c * Lanes]: 16 output channels by 16 tiles, for one
    // Winograd position; each sum in channel order with one fused multiply-add per channel. Also ConvolutionFusedWinograd44's.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Products(int depth, float* u, int ldu, float* v, float* m)
    {
        Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default, m4 = default, m5 = default, m6 = default, m7 = default;
        Vector512<float> m8 = default, m9 = default, m10 = default, m11 = default, m12 = default, m13 = default, m14 = default, m15 = default;
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> b = Vector512.Load(v);
            m0 = Vector512.FusedMultiplyAdd(Vector512.Create(u[0]), b, m0);
            m1 = Vector512.FusedMultiplyAdd(Vector512.Create(u[1]), b, m1);
            m2 = Vector512.FusedMultiplyAdd(Vector512.Create(u[2]), b, m2);
            m3 = Vector512.FusedMultiplyAdd(Vector512.Create(u[3]), b, m3);
            m4 = Vector512.FusedMultiplyAdd(Vector512.Create(u[4]), b, m4);
            m5 = Vector512.FusedMultiplyAdd(Vector512.Create(u[5]), b, m5);
            m6 = Vector512.FusedMultiplyAdd(Vector512.Create(u[6]), b, m6);
            m7 = Vector512.FusedMultiplyAdd(Vector512.Create(u[7]), b, m7);
            m8 = Vector512.FusedMultiplyAdd(Vector512.Create(u[8]), b, m8);
            m9 = Vector512.FusedMultiplyAdd(Vector512.Create(u[9]), b, m9);
            m10 = Vector512.FusedMultiplyAdd(Vector512.Create(u[10]), b, m10);
            m11 = Vector512.FusedMultiplyAdd(Vector512.Create(u[11]), b, m11);
            m12 = Vector512.FusedMultiplyAdd(Vector512.Create(u[12]), b, m12);
            m13 = Vector512.FusedMultiplyAdd(Vector512.Create(u[13]), b, m13);
            m14 = Vector512.FusedMultiplyAdd(Vector512.Create(u[14]), b, m14);
            m15 = Vector512.FusedMultiplyAdd(Vector512.Create(u[15]), b, m15);
            u += ldu;
            v += Lanes;
        }
        const int ld = Lanes;
        m0.Store(m); m1.Store(m + ld); m2.Store(m + 2 * ld); m3.Store(m + 3 * ld);
        m4.Store(m + 4 * ld); m5.Store(m + 5 * ld); m6.Store(m + 6 * ld); m7.Store(m + 7 * ld);
        m8.Store(m + 8 * ld); m9.Store(m + 9 * ld); m10.Store(m + 10 * ld); m11.Store(m + 11 * ld);
        m12.Store(m + 12 * ld); m13.Store(m + 13 * ld); m14.Store(m + 14 * ld); m15.Store(m + 15 * ld);
    }

    // One output channel's 16 tiles: Y = A^T M A + bias (then max(Y, 0) with relu), A^T = [1 1 1 0; 0 1 -1 -1], written
    // as output rows 0 (and 1 where `second`) of the block: 32 pixels each, the tiles' two columns interleaved.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // m: position xi's 16 tiles at m + xi * ms.
    private static void OutputTransform(float* m, int ms, float* bias, int k, bool relu, float* dst, int ow, bool second)
    {
        // s0[i], s1[i]: row i of M A
        Cols(m, ms, out Vector512<float> s00, out Vector512<float> s10);
        Cols(m + 4 * ms, ms, out Vector512<float> s01, out Vector512<float> s11);
        Cols(m + 8 * ms, ms, out Vector512<float> s02, out Vector512<float> s12);
        Cols(m + 12 * ms, ms, out Vector512<float> s03, out Vector512<float> s13);
        if (bias != null)   // row 1 of M A enters all four outputs with weight +1
        {
            Vector512<float> b = Vector512.Create(bias[k]);
            s01 += b;
            s11 += b;
        }
        Vector512<float> y00 = s00 + s01 + s02, y01 = s10 + s11 + s12;
        Store(y00, y01, relu, dst);
        if (!second) return;
        Vector512<float> y10 = s01 - s02 - s03, y11 = s11 - s12 - s13;
        Store(y10, y11, relu, dst + ow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cols(float* m, int ms, out Vector512<float> s0, out Vector512<float> s1)
    {
        Vector512<float> m0 = Vector512.Load(m), m1 = Vector512.Load(m + ms), m2 = Vector512.Load(m + 2 * ms), m3 = Vector512.Load(m + 3 * ms);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    // Tiles' left and right columns interleaved into 32 consecutive pixels.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> left, Vector512<float> right, bool relu, float* dst)
    {
        if (relu)
        {
            // Activations.ReluForward's bits: x <= 0 gives +0, NaN passes through
            left = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(left, Vector512<float>.Zero), Vector512<float>.Zero, left);
            right = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(right, Vector512<float>.Zero), Vector512<float>.Zero, right);
        }
        Vector512<int> low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        Avx512F.PermuteVar16x32x2(left, low, right).Store(dst);
        Avx512F.PermuteVar16x32x2(left, low + Vector512.Create(8), right).Store(dst + 16);
    }
}
