using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The weight gradient of a stride-1, unpadded convolution with 5-wide kernels on small planes (LeNet's conv2:
/// 20 -> 50 channels, 12x12 -> 8x8), with the 16 lanes of a vector running over 16 images:
/// dW[k, c, kh, kw] = sum over image groups g, pixels (oh, ow), lanes l of dyT[g, k, oh, ow, l] * xT[g, c, oh+kh, ow+kw, l],
/// where xT and dyT are x and dy with each group of 16 images moved into the innermost place (8x8 transposes;
/// images past N are zero lanes). In that layout a kernel row's five columns kw are five vectors 16 floats apart in
/// xT, and an output channel's pixels are one contiguous run in dyT: the dot-product tiles (5 output channels x the
/// 5 kernel columns of one (c, kh)) read both operands straight from the transposed copies, with no im2col rows to
/// unfold per tile (which cost a fifth of <see cref="ConvolutionWeightGradient"/>'s time on LeNet's conv2). Each
/// (k, c, kh, kw) sums its groups in group order, each group's lanes as <see cref="DotMicroKernels"/> does; threads
/// split the input channels, so results do not depend on the thread count. AVX-512 only (a vector is 16 images).
/// </summary>
internal static unsafe class ConvolutionBatchLaneWeightGradient
{
    private const int Lanes = 16, Mr = 5, Kw = 5;

    /// <summary>
    /// Groups 1, stride 1, dilation 1, no padding, 5-wide kernels, AVX-512, and planes small enough that one input
    /// channel's transposed plane (and five output channels' dy) of a group of images stay in L1.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Shape(g) && ((g.InHeight * g.InWidth <= 256 && g.OutHeight * g.OutWidth <= 128) || Shallow(g));

    /// <summary>
    /// A first layer (depth C*KH*5 at most 25, planes up to 32x32: LeNet's conv1, 1 -> 20 on 28x28), where this path
    /// runs before <see cref="ConvolutionRowDotWeightGradient"/>: the tiles read dy's five channels and the x plane from
    /// L2 at 10 loads per 25 multiply-adds, against the row dots' 4x6 tiles with a horizontal sum per image chunk.
    /// Threads split the blocks of five output channels there (one input channel).
    /// </summary>
    public static bool Shallow(in Conv2dGeometry g) =>
        Shape(g) && g.InChannels * g.KernelHeight * Kw <= 25 && g.InHeight * g.InWidth <= 1024 && g.OutHeight * g.OutWidth <= 1024;

    private static bool Shape(in Conv2dGeometry g) =>
        SimdWidth.Allows512(SimdWidth.Max) && g.Groups == 1 && g.KernelWidth == Kw
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.PadHeight == 0 && g.PadWidth == 0 && g.Batch >= 8 && g.OutWidth >= 1 && g.OutHeight >= 1;

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C, KH, 5) overwritten
    public static void Compute(in Conv2dGeometry g, float* x, float* dy, float* dWeight)
    {
        int n = g.Batch, c = g.InChannels, k = g.OutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int groups = (n + Lanes - 1) / Lanes, kPadded = (k + Mr - 1) / Mr * Mr;
        long xLength = (long)groups * c * hw * Lanes, dyLength = (long)groups * kPadded * ohw * Lanes;
        float[] buffer = ArrayPool<float>.Shared.Rent((int)(xLength + dyLength) + 16);
        try
        {
            fixed (float* pb = buffer)
            {
                float* xT = ConvolutionImplicitGemm.Align64(pb), dyT = xT + xLength;
                Conv2dGeometry geo = g;
                nint ix = (nint)x, idy = (nint)dy, ixT = (nint)xT, idyT = (nint)dyT, idw = (nint)dWeight;
                // Transposes: units are (group, plane) pairs of x's channels, then of dy's (padded) channels.
                int xUnits = groups * c, units = xUnits + groups * kPadded;
                KernelThreads.For(units, (s, e) =>
                {
                    for (int u = s; u < e; u++)
                    {
                        if (u < xUnits)
                        {
                            int grp = u / c, ch = u % c;
                            ToLanes((float*)ix, geo.InChannels, hw, ch, grp, n, (float*)ixT + ((long)grp * geo.InChannels + ch) * hw * Lanes);
                        }
                        else
                        {
                            int v = u - xUnits, grp = v / kPadded, ch = v % kPadded;
                            float* dst = (float*)idyT + ((long)grp * kPadded + ch) * ohw * Lanes;
                            if (ch >= geo.OutChannels) new Span<float>(dst, ohw * Lanes).Clear();
                            else ToLanes((float*)idy, geo.OutChannels, ohw, ch, grp, n, dst);
                        }
                    }
                });
                if (c >= KernelThreads.Count)
                    KernelThreads.For(c, (s, e) => Channels(geo, s, e, 0, kPadded, (float*)ixT, (float*)idyT, kPadded, groups, (float*)idw));
                else   // too few input channels to split: split the blocks of five output channels (same sums, same order)
                    KernelThreads.For(kPadded / Mr, (s, e) => Channels(geo, 0, geo.InChannels, s * Mr, e * Mr, (float*)ixT, (float*)idyT, kPadded, groups, (float*)idw));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>dst[q*16 + l] = src[(16*grp + l), channel, q] for q &lt; plane, zero for images at or past n.</summary>
    // src: (N, channels, plane); dst: (plane, 16)
    internal static void ToLanes(float* src, int channels, int plane, int channel, int grp, int n, float* dst)
    {
        long imageStride = (long)channels * plane;
        int q0 = 0;
        if (n - grp * Lanes >= Lanes && Avx512F.IsSupported)   // 16 images: whole 16x16 blocks, one 64-byte store per pixel
            for (float* s = src + grp * Lanes * imageStride + (long)channel * plane; q0 + Lanes <= plane; q0 += Lanes)
                Transpose16.Block16x16(s + q0, imageStride, dst + q0 * Lanes, Lanes);
        for (int half = 0; half < 2; half++)
        {
            int i0 = grp * Lanes + half * 8, live = Math.Clamp(n - i0, 0, 8);
            float* s = src + i0 * imageStride + (long)channel * plane, d = dst + half * 8;
            int q = q0;
            if (live == 8)
                for (; q + 8 <= plane; q += 8) Transpose8x8.Block(s + q, imageStride, d + q * Lanes, Lanes);
            for (; q < plane; q++)
                for (int l = 0; l < 8; l++) d[q * Lanes + l] = l < live ? s[l * imageStride + q] : 0f;
        }
    }

    // Input channels [c0, c1) and output channels [kb0, kb1) (multiples of 5): every (k, c, kh, kw) of them, summed over the groups in order.
    private static void Channels(in Conv2dGeometry g, int c0, int c1, int kb0, int kb1, float* xT, float* dyT, int kPadded, int groups, float* dWeight)
    {
        int c = g.InChannels, k = g.OutChannels, kh = g.KernelHeight, w = g.InWidth, hw = g.InHeight * w;
        int oh = g.OutHeight, ow = g.OutWidth, ohw = oh * ow, depth = c * kh * Kw;
        float* tile = stackalloc float[32];
        for (int grp = 0; grp < groups; grp++)
        {
            for (int ch = c0; ch < c1; ch++)
            {
                float* plane = xT + ((long)grp * c + ch) * hw * Lanes;
                for (int k0 = kb0; k0 < kb1; k0 += Mr)
                {
                    float* a = dyT + ((long)grp * kPadded + k0) * ohw * Lanes;
                    int live = Math.Min(Mr, k - k0);
                    for (int r = 0; r < kh; r++)
                    {
                        Tile(a, ohw * Lanes, plane + r * w * Lanes, w * Lanes, oh, ow, tile);
                        float* dst = dWeight + (long)k0 * depth + (ch * kh + r) * Kw;
                        if (grp == 0)
                            for (int i = 0; i < live; i++) for (int j = 0; j < Kw; j++) dst[(long)i * depth + j] = tile[i * Kw + j];
                        else
                            for (int i = 0; i < live; i++) for (int j = 0; j < Kw; j++) dst[(long)i * depth + j] += tile[i * Kw + j];
                    }
                }
            }
        }
    }

    /// <summary>
    /// tile[i*5 + j] = sum over (y, x) in (oh, ow) and lanes of a[i*lda + (y*ow + x)*16 + l] * b[y*ldb + (x + j)*16 + l].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Tile(float* a, int lda, float* b, int ldb, int oh, int ow, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default, c44 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda;
        for (int y = 0; y < oh; y++, b += ldb)
        {
            float* bx = b;
            for (int xx = 0; xx < ow; xx++, bx += Lanes, a0 += Lanes, a1 += Lanes, a2 += Lanes, a3 += Lanes, a4 += Lanes)
            {
                Vector512<float> x0 = Vector512.Load(a0), x1 = Vector512.Load(a1), x2 = Vector512.Load(a2);
                Vector512<float> x3 = Vector512.Load(a3), x4 = Vector512.Load(a4);
                Vector512<float> v = Vector512.Load(bx);
                c00 = Vector512.FusedMultiplyAdd(x0, v, c00); c10 = Vector512.FusedMultiplyAdd(x1, v, c10); c20 = Vector512.FusedMultiplyAdd(x2, v, c20);
                c30 = Vector512.FusedMultiplyAdd(x3, v, c30); c40 = Vector512.FusedMultiplyAdd(x4, v, c40);
                v = Vector512.Load(bx + 16);
                c01 = Vector512.FusedMultiplyAdd(x0, v, c01); c11 = Vector512.FusedMultiplyAdd(x1, v, c11); c21 = Vector512.FusedMultiplyAdd(x2, v, c21);
                c31 = Vector512.FusedMultiplyAdd(x3, v, c31); c41 = Vector512.FusedMultiplyAdd(x4, v, c41);
                v = Vector512.Load(bx + 32);
                c02 = Vector512.FusedMultiplyAdd(x0, v, c02); c12 = Vector512.FusedMultiplyAdd(x1, v, c12); c22 = Vector512.FusedMultiplyAdd(x2, v, c22);
                c32 = Vector512.FusedMultiplyAdd(x3, v, c32); c42 = Vector512.FusedMultiplyAdd(x4, v, c42);
                v = Vector512.Load(bx + 48);
                c03 = Vector512.FusedMultiplyAdd(x0, v, c03); c13 = Vector512.FusedMultiplyAdd(x1, v, c13); c23 = Vector512.FusedMultiplyAdd(x2, v, c23);
                c33 = Vector512.FusedMultiplyAdd(x3, v, c33); c43 = Vector512.FusedMultiplyAdd(x4, v, c43);
                v = Vector512.Load(bx + 64);
                c04 = Vector512.FusedMultiplyAdd(x0, v, c04); c14 = Vector512.FusedMultiplyAdd(x1, v, c14); c24 = Vector512.FusedMultiplyAdd(x2, v, c24);
                c34 = Vector512.FusedMultiplyAdd(x3, v, c34); c44 = Vector512.FusedMultiplyAdd(x4, v, c44);
            }
        }
        DotMicroKernels.Reduce8(DotMicroKernels.Fold(c00), DotMicroKernels.Fold(c01), DotMicroKernels.Fold(c02), DotMicroKernels.Fold(c03),
            DotMicroKernels.Fold(c04), DotMicroKernels.Fold(c10), DotMicroKernels.Fold(c11), DotMicroKernels.Fold(c12), tile);
        DotMicroKernels.Reduce8(DotMicroKernels.Fold(c13), DotMicroKernels.Fold(c14), DotMicroKernels.Fold(c20), DotMicroKernels.Fold(c21),
            DotMicroKernels.Fold(c22), DotMicroKernels.Fold(c23), DotMicroKernels.Fold(c24), DotMicroKernels.Fold(c30), tile + 8);
        DotMicroKernels.Reduce8(DotMicroKernels.Fold(c31), DotMicroKernels.Fold(c32), DotMicroKernels.Fold(c33), DotMicroKernels.Fold(c34),
            DotMicroKernels.Fold(c40), DotMicroKernels.Fold(c41), DotMicroKernels.Fold(c42), DotMicroKernels.Fold(c43), tile + 16);
        DotMicroKernels.Reduce8(DotMicroKernels.Fold(c44), default, default, default, default, default, default, default, tile + 24, 1);
    }
}
