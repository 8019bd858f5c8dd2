using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// <see cref="ConvolutionFusedWinograd"/>'s scheme with F(4x4, 3x3): 36 products per 4x4 output tile and channel pair
/// (2.25 per output instead of F(2x2, 3x3)'s 4), for rows of 32 output pixels (ResNet-20's 16 -> 16 layers on 32x32).
/// A block is 16 tiles, one per lane of a Vector512: the 8 tiles of two consecutive tile rows (8 output rows by 32
/// columns). Each image is copied once into four column-phase planes (column 4t + p of each padded row at t, its
/// padding made real), so a block's 6x6 input windows are two 256-bit loads per window element; the input transform
/// (<see cref="ConvolutionWinogradTransforms"/>'s B^T, its order), the 36 small products (16 input by 16 output
/// channels, <see cref="ConvolutionFusedWinograd.Products"/>) and the output transform stay in L1/L2 per block.
/// The weights are transformed in double and rounded once. F(4x4)'s transforms scale by up to 8 (outputs) and 1/24
/// (weights): rounding as <see cref="ConvolutionWinograd"/>'s. Images are split over threads and every output is
/// computed the same way in any split: results are identical for any <see cref="KernelThreads.Count"/>. AVX-512 only.
/// </summary>
internal static unsafe class ConvolutionFusedWinograd44
{
    private const int Lanes = 16;        // tiles per block, output channels per product tile
    private const int PhaseStride = 48;  // floats per padded row's phase vectors (16 + 16 + 8 + 8)

    /// <summary>Whether this path may run (tests compare it with the others).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The shapes <see cref="Forward"/> computes: AVX-512, groups 1, 3x3, stride and dilation 1, padding at most 2,
    /// output channels a multiple of 16, output rows of exactly 32 pixels (8 tiles), at least 5 of them (two tile rows;
    /// a last, part block overlaps the one before it).
    /// </summary>
    public static bool Supports(in Conv2dGeometry g) =>
        Enabled && SimdWidth.AllowsAvx512F(SimdWidth.Max) && g.Groups == 1 && g.KernelHeight == 3 && g.KernelWidth == 3
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.PadHeight <= 2 && g.PadWidth <= 2 && g.OutChannels % Lanes == 0 && g.OutWidth == 32 && g.OutHeight >= 5;

    /// <summary>Where forward runs here: 16 input and output channels (ResNet-20's first stage), images enough for both threads.</summary>
    public static bool Applies(in Conv2dGeometry g) => Supports(g) && g.InChannels == 16 && g.OutChannels == 16 && g.Batch >= 2;

    /// <summary>Where backward-data (the forward of <see cref="ConvolutionDirect.Flipped"/>) runs here.</summary>
    public static bool AppliesToBackwardData(in Conv2dGeometry g) => FlipsTo3x3(g) && Applies(ConvolutionDirect.Flipped(g));

    /// <summary>Whether backward-data's flipped forward is one this path computes (tests).</summary>
    internal static bool SupportsBackwardData(in Conv2dGeometry g) => FlipsTo3x3(g) && Supports(ConvolutionDirect.Flipped(g));

    private static bool FlipsTo3x3(in Conv2dGeometry g) =>
        g.Groups == 1 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1 && g.PadHeight <= 2 && g.PadWidth <= 2;

    // dy: (N, K, OH, OW); weight: (K, C, 3, 3); dx: (N, C, H, W) overwritten. Needs SupportsBackwardData.
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx) =>
        ConvolutionDirect.BackwardDataByFlipped(g, dy, weight, dx, &Forward);

    // x: (N, C, H, W); weight: (K, C, 3, 3); bias: (K) or null; y: (N, K, OH, OW) overwritten. Needs Supports.
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu = false)
    {
        int c = g.InChannels, k = g.OutChannels;
        float[] transformed = ArrayPool<float>.Shared.Rent(36 * c * k + 16);
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

    // u[(xi * C + c) * K + k] = (G w[k, c] G^T)[xi / 6, xi % 6] in double, rounded once;
    // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
    private static void TransformWeights(int c, int k, float* weight, float* u)
    {
        double* t = stackalloc double[18];
        double* o = stackalloc double[6];
        for (int kk = 0; kk < k; kk++)
            for (int cc = 0; cc < c; cc++)
            {
                float* w = weight + ((long)kk * c + cc) * 9;
                for (int j = 0; j < 3; j++)   // t = G w (6x3)
                {
                    Filter(w[j], w[3 + j], w[6 + j], o);
                    for (int a = 0; a < 6; a++) t[3 * a + j] = o[a];
                }
                for (int a = 0; a < 6; a++)   // (G w) G^T
                {
                    Filter(t[3 * a], t[3 * a + 1], t[3 * a + 2], o);
                    for (int b = 0; b < 6; b++) u[((6 * a + b) * c + cc) * k + kk] = (float)o[b];
                }
            }
    }

    // G (g0, g1, g2), as ConvolutionWinograd's Filter.
    private static void Filter(double g0, double g1, double g2, double* o)
    {
        double s = g0 + g2, q = g0 / 24 + g2 / 6, r = g1 / 12;
        o[0] = g0 / 4;
        o[1] = -(s + g1) / 6;
        o[2] = -(s - g1) / 6;
        o[3] = q + r;
        o[4] = q - r;
        o[5] = g2;
    }

    // Images [s, e): each copied into its phase planes, then its tile rows in blocks of two.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Images(Conv2dGeometry g, int s, int e, float* x, float* u, float* bias, float* y, bool relu)
    {
        int c = g.InChannels, k = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth;
        int tileRows = (oh + 3) / 4, rows = 4 * tileRows + 2;
        long phaseLength = (long)c * rows * PhaseStride;
        int ms = Math.Max(c, k) * Lanes;   // floats from one position's products to the next
        float[] phases = ArrayPool<float>.Shared.Rent((int)phaseLength + 64);
        float[] scratch = ArrayPool<float>.Shared.Rent(36 * Lanes * (c + k) + 36 * Lanes + 32);
        try
        {
            fixed (float* pphases = phases, pscratch = scratch)
            {
                float* phaseBase = ConvolutionImplicitGemm.Align64(pphases);
                // The products of position xi overwrite its transformed inputs once all are read (m = v) where K <= C.
                float* v = ConvolutionImplicitGemm.Align64(pscratch), m = k <= c ? v : v + 36 * Lanes * c;
                float* rowPass = v + 36 * Lanes * (k <= c ? c : c + k);   // the transforms' 36-vector scratch
                long imageLength = (long)c * g.InHeight * g.InWidth, outLength = (long)k * oh * ow;
                for (int n = s; n < e; n++)
                {
                    if (n == s) new Span<float>(phaseBase, (int)phaseLength).Clear();   // padding rows, zero from here on
                    int copied = 0;   // padded rows split so far
                    for (int b = 0; 2 * b < tileRows; b++)
                    {
                        int tr = Math.Min(2 * b, tileRows - 2);   // a last, part block overlaps the one before
                        // the block's rows split just before it reads them (still in cache; the image's loads spread out)
                        CopyPhases(g, x + n * imageLength, phaseBase, rows, copied, Math.Min(rows, 4 * tr + 10));
                        copied = Math.Max(copied, Math.Min(rows, 4 * tr + 10));
                        for (int cc = 0; cc < c; cc++)
                            InputTransform(phaseBase + ((long)cc * rows + 4 * tr) * PhaseStride, v + cc * Lanes, c * Lanes, rowPass);
                        for (int xi = 0; xi < 36; xi++)
                            for (int kb = 0; kb < k; kb += Lanes)
                                ConvolutionFusedWinograd.Products(c, u + (long)xi * c * k + kb, k, v + xi * c * Lanes, m + (long)xi * ms + kb * Lanes);
                        float* dst = y + n * outLength + 4 * tr * ow;
                        int lastRows = Math.Min(4, oh - 4 * (tr + 1));   // the second tile row's rows inside the output
                        for (int kk = 0; kk < k; kk++)
                            OutputTransform(m + kk * Lanes, ms, bias, kk, relu, dst + (long)kk * oh * ow, ow, lastRows, rowPass);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(phases);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // The image as (C, rows, 48): phase 0's and 1's 16 lanes (t < 8: padded column 4t + p; 8 + t: column 4t + 4 + p, the
    // windows' columns 4 and 5), then phases 2 and 3 (column 4t + 2, then 4t + 3, t < 8). Each row is permuted straight
    // from the image's row (two loads; the padding's lanes zeroed), padded rows [from, to) only, no zero-bordered copy between (it doubled the copy's
    // time: 100 KB through L2 and loads straight after unaligned stores). Padding rows stay zero from the first image on (the caller clears them).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPhases(in Conv2dGeometry g, float* image, float* phases, int rows, int from, int to)
    {
        int h = g.InHeight, w = g.InWidth, ph = g.PadHeight, pw = g.PadWidth, c = g.InChannels;
        int bOff = Math.Min(16, w - 16);   // the second load: image columns bOff .. bOff + 15 (never past the row's end when w <= 32)
        int* idx = stackalloc int[48];
        int* keep = stackalloc int[48];
        int fix0 = -1, fix1 = -1;   // image column of lane 15 of phases 0 and 1 where no permute reaches it
        for (int v = 0; v < 3; v++)
            for (int l = 0; l < 16; l++)
            {
                int q = v < 2 ? 4 * (l & 7) + (l >= 8 ? 4 : 0) + v : 4 * (l & 7) + 2 + (l >> 3);
                int j = q - pw;
                bool inside = j >= 0 && j < w, reached = j < 16 || j <= bOff + 15;
                idx[16 * v + l] = j < 0 ? 0 : j < 16 ? j : reached ? 16 + j - bOff : 0;
                keep[16 * v + l] = inside && reached ? -1 : 0;
                if (inside && !reached) { if (v == 0) fix0 = j; else fix1 = j; }
            }
        Vector512<int> i0 = Vector512.Load(idx), i1 = Vector512.Load(idx + 16), i2 = Vector512.Load(idx + 32);
        Vector512<float> k0 = Vector512.Load(keep).AsSingle(), k1 = Vector512.Load(keep + 16).AsSingle(), k2 = Vector512.Load(keep + 32).AsSingle();
        Vector512<float> lane15 = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1).AsSingle();
        int r0 = Math.Max(from - ph, 0), r1 = Math.Min(to - ph, h);   // image rows of padded rows [from, to)
        for (int cc = 0; cc < c; cc++)
        {
            float* src = image + ((long)cc * h + r0) * w, dst = phases + ((long)cc * rows + ph + r0) * PhaseStride;
            for (int r = r0; r < r1; r++, src += w, dst += PhaseStride)
            {
                Vector512<float> a = Vector512.Load(src), b = Vector512.Load(src + bOff);
                Vector512<float> p0 = Avx512F.PermuteVar16x32x2(a, i0, b) & k0;
                Vector512<float> p1 = Avx512F.PermuteVar16x32x2(a, i1, b) & k1;
                if (fix0 >= 0) p0 = Vector512.ConditionalSelect(lane15, Vector512.Create(src[fix0]), p0);
                if (fix1 >= 0) p1 = Vector512.ConditionalSelect(lane15, Vector512.Create(src[fix1]), p1);
                p0.Store(dst);
                p1.Store(dst + 16);
                (Avx512F.PermuteVar16x32x2(a, i2, b) & k2).Store(dst + 32);
            }
        }
    }

    // Window element (i, j) of the block's 16 tiles: lanes 0-7 the first tile row's (phase rows from `src`), 8-15 the
    // second's (4 padded rows further).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Element(float* src, int i, int j)
    {
        // columns 0-5: phase 0 low, phase 1 low, phase 2, phase 3, phase 0 high, phase 1 high
        float* p = src + i * PhaseStride + (j < 2 ? 16 * j : j < 4 ? 32 + 8 * (j - 2) : 16 * (j - 4) + 8);
        return Vector512.Create(Vector256.Load(p), Vector256.Load(p + 4 * PhaseStride));
    }

    // One channel's 16 tiles: v[xi * ldv] = (B^T d B)[xi / 6, xi % 6] for d the tiles' 6x6 windows;
    // B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
    // Along the window's rows first into `rows` (36 vectors), then along its columns.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTransform(float* src, float* v, int ldv, float* rows)
    {
        for (int i = 0; i < 6; i++)
            InputLine(Element(src, i, 0), Element(src, i, 1), Element(src, i, 2), Element(src, i, 3), Element(src, i, 4), Element(src, i, 5),
                rows + i * 6 * Lanes, Lanes);
        for (int j = 0; j < 6; j++)
        {
            float* s = rows + j * Lanes;
            InputLine(Vector512.Load(s), Vector512.Load(s + 6 * Lanes), Vector512.Load(s + 12 * Lanes), Vector512.Load(s + 18 * Lanes),
                Vector512.Load(s + 24 * Lanes), Vector512.Load(s + 30 * Lanes), v + j * ldv, 6 * ldv);
        }
    }

    // B^T (d0..d5), stored at o, o + stride, ... o + 5 * stride (ConvolutionWinogradTransforms' order).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5, float* o, long stride)
    {
        Vector512<float> four = Vector512.Create(4f), minusFour = Vector512.Create(-4f), minusFive = Vector512.Create(-5f), two = Vector512.Create(2f);
        Vector512<float> a = Vector512.FusedMultiplyAdd(minusFour, d2, d4), b = Vector512.FusedMultiplyAdd(minusFour, d1, d3);
        Vector512<float> c = d4 - d2, e = d1 - d3;
        Vector512.FusedMultiplyAdd(four, d0, Vector512.FusedMultiplyAdd(minusFive, d2, d4)).Store(o);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        Vector512.FusedMultiplyAdd(-two, e, c).Store(o + 3 * stride);
        Vector512.FusedMultiplyAdd(two, e, c).Store(o + 4 * stride);
        Vector512.FusedMultiplyAdd(four, d1, Vector512.FusedMultiplyAdd(minusFive, d3, d5)).Store(o + 5 * stride);
    }

    // A^T (m0..m5): [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        Vector512<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        o0 = m0 + s12 + s34;
        o1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), d34, d12);
        o2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), s34, s12);
        o3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), d34, d12) + m5;
    }

    // One output channel's 16 tiles: Y = A^T M A + bias (then max(Y, 0) with relu), written as output rows 0-3 of the
    // block (first tile row, lanes 0-7) and rows 4 .. 3 + lastRows (second, lanes 8-15), 32 pixels each.
    // m: position xi's 16 tiles at m + xi * ms.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTransform(float* m, int ms, float* bias, int k, bool relu, float* dst, int ow, int lastRows, float* scratch)
    {
        for (int a = 0; a < 6; a++)
        {
            float* s = m + 6 * a * ms;
            OutputLine(Vector512.Load(s), Vector512.Load(s + ms), Vector512.Load(s + 2 * ms), Vector512.Load(s + 3 * ms),
                Vector512.Load(s + 4 * ms), Vector512.Load(s + 5 * ms), out var o0, out var o1, out var o2, out var o3);
            o0.Store(scratch + (a * 4) * Lanes); o1.Store(scratch + (a * 4 + 1) * Lanes);
            o2.Store(scratch + (a * 4 + 2) * Lanes); o3.Store(scratch + (a * 4 + 3) * Lanes);
        }
        // column q of Y: y{row}{q}
        Column(scratch, 0, out var y00, out var y10, out var y20, out var y30);
        Column(scratch, 1, out var y01, out var y11, out var y21, out var y31);
        Column(scratch, 2, out var y02, out var y12, out var y22, out var y32);
        Column(scratch, 3, out var y03, out var y13, out var y23, out var y33);
        if (bias != null)
        {
            Vector512<float> b = Vector512.Create(bias[k]);
            y00 += b; y01 += b; y02 += b; y03 += b; y10 += b; y11 += b; y12 += b; y13 += b;
            y20 += b; y21 += b; y22 += b; y23 += b; y30 += b; y31 += b; y32 += b; y33 += b;
        }
        StoreRow(y00, y01, y02, y03, relu, dst, dst + 4 * ow, true);
        StoreRow(y10, y11, y12, y13, relu, dst + ow, dst + 5 * ow, lastRows > 1);
        StoreRow(y20, y21, y22, y23, relu, dst + 2 * ow, dst + 6 * ow, lastRows > 2);
        StoreRow(y30, y31, y32, y33, relu, dst + 3 * ow, dst + 7 * ow, lastRows > 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* scratch, int q, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        float* s = scratch + q * Lanes;
        OutputLine(Vector512.Load(s), Vector512.Load(s + 4 * Lanes), Vector512.Load(s + 8 * Lanes), Vector512.Load(s + 12 * Lanes),
            Vector512.Load(s + 16 * Lanes), Vector512.Load(s + 20 * Lanes), out o0, out o1, out o2, out o3);
    }

    // One row of the tiles' pixels: q0..q3 the tiles' columns 0-3; lanes 0-7 go to `first` (pixel 4t + q), lanes 8-15 to
    // `second` where `both`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3, bool relu,
        float* first, float* second, bool both)
    {
        if (relu)
        {
            // Activations.ReluForward's bits: x <= 0 gives +0, NaN passes through
            q0 = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(q0, Vector512<float>.Zero), Vector512<float>.Zero, q0);
            q1 = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(q1, Vector512<float>.Zero), Vector512<float>.Zero, q1);
            q2 = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(q2, Vector512<float>.Zero), Vector512<float>.Zero, q2);
            q3 = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(q3, Vector512<float>.Zero), Vector512<float>.Zero, q3);
        }
        Vector512<int> pair = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        Vector512<int> quad = Vector512.Create(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
        Vector512<int> eight = Vector512.Create(8);
        Vector512<float> a = Avx512F.PermuteVar16x32x2(q0, pair, q1), b = Avx512F.PermuteVar16x32x2(q2, pair, q3);
        Avx512F.PermuteVar16x32x2(a, quad, b).Store(first);
        Avx512F.PermuteVar16x32x2(a, quad + eight, b).Store(first + 16);
        if (!both) return;
        a = Avx512F.PermuteVar16x32x2(q0, pair + eight, q1);
        b = Avx512F.PermuteVar16x32x2(q2, pair + eight, q3);
        Avx512F.PermuteVar16x32x2(a, quad, b).Store(second);
        Avx512F.PermuteVar16x32x2(a, quad + eight, b).Store(second + 16);
    }
}
