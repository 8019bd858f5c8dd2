using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Backward-data of a stride-1, unpadded 5x5-wide convolution with 8-pixel output rows (LeNet's conv2: dy 50x8x8 to
/// dx 20x12x12), with the 16 lanes of a vector running over 16 images (the layout of
/// <see cref="ConvolutionBatchLaneWeightGradient"/>): dxT[g, c, ih, ow + kw, l] = sum over k, kh of
/// W[k, c, kh, kw] * dyT[g, k, ih - kh, ow, l]. One dx row of one channel (12 vectors) stays in registers while every
/// (k, kh) adds its eight dy vectors times the five broadcast weights of its kernel row: exactly the products of the
/// matrix form W^T dy, but with no column matrix to fold back into dx (col2im) and no 8-pixel panel edges. dy is
/// moved to the lanes layout first, dx back from it per (group, channel) unit; units are split over threads and every
/// dx element is summed in the same order (k, then kh) in any split. AVX-512 only (a vector is 16 images).
/// </summary>
internal static unsafe class ConvolutionBatchLaneBackwardData
{
    private const int Lanes = 16, Ow = 8, Kw = 5, W = Ow + Kw - 1;

    /// <summary>Groups 1, stride 1, dilation 1, no padding, KW 5, 8-pixel output rows (12-pixel input rows), AVX-512, batch >= 8.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        SimdWidth.Allows512(SimdWidth.Max) && g.Groups == 1 && g.KernelWidth == Kw && g.OutWidth == Ow && g.InWidth == W
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.PadHeight == 0 && g.PadWidth == 0 && g.Batch >= 8 && g.InHeight <= 32;

    // dy: (N, K, OH, 8); weight: (K, C, KH, 5); dx: (N, C, H, 12) overwritten
    public static void Compute(in Conv2dGeometry g, float* dy, float* weight, float* dx)
    {
        int n = g.Batch, k = g.OutChannels, c = g.InChannels, ohw = g.OutHeight * Ow;
        int groups = (n + Lanes - 1) / Lanes;
        long dyLength = (long)groups * k * ohw * Lanes;
        float[] buffer = ArrayPool<float>.Shared.Rent((int)dyLength + 16);
        try
        {
            fixed (float* pb = buffer)
            {
                float* dyT = ConvolutionImplicitGemm.Align64(pb);
                Conv2dGeometry geo = g;
                nint idy = (nint)dy, idyT = (nint)dyT, iw = (nint)weight, idx = (nint)dx;
                KernelThreads.For(groups * k, (s, e) =>
                {
                    for (int u = s; u < e; u++)
                    {
                        int grp = u / geo.OutChannels, ch = u % geo.OutChannels;
                        ConvolutionBatchLaneWeightGradient.ToLanes((float*)idy, geo.OutChannels, ohw, ch, grp, geo.Batch,
                            (float*)idyT + ((long)grp * geo.OutChannels + ch) * ohw * Lanes);
                    }
                });
                KernelThreads.For(groups * c, (s, e) => Units(geo, s, e, (float*)idyT, (float*)iw, (float*)idx));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Units [u0, u1) of (group, input channel): the channel's dx plane for the group's images.
    private static void Units(in Conv2dGeometry g, int u0, int u1, float* dyT, float* weight, float* dx)
    {
        int k = g.OutChannels, c = g.InChannels, h = g.InHeight, kh = g.KernelHeight, oh = g.OutHeight, ohw = oh * Ow;
        int plane = h * W, depth = c * kh * Kw;
        float* planeT = stackalloc float[plane * Lanes + 16];
        float* pt = ConvolutionImplicitGemm.Align64(planeT);
        for (int u = u0; u < u1; u++)
        {
            int grp = u / c, ch = u % c;
            float* dyg = dyT + (long)grp * k * ohw * Lanes;
            for (int ih = 0; ih < h; ih++)
            {
                int r0 = Math.Max(0, ih - oh + 1), r1 = Math.Min(kh, ih + 1);   // kernel rows with ih - r in [0, oh)
                Row(dyg + (long)(ih - r0) * Ow * Lanes, ohw * Lanes, weight + ch * kh * Kw + r0 * Kw, depth, k, r1 - r0, pt + ih * W * Lanes);
            }
            FromLanes(pt, plane, dx, c, ch, grp, g.Batch);
        }
    }

    /// <summary>
    /// dst[(ow + kw)*16 + l] = sum over k &lt; count, r &lt; rows of w[k*ldw + r*5 + kw] * dy[k*ldk - r*8*16 + ow*16 + l]
    /// (dy at kernel row r is the dy row r rows above the first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Row(float* dy, int ldk, float* weight, int ldw, int count, int rows, float* dst)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        Vector512<float> s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (int r = 0; r < rows; r++)
        {
            float* d = dy - r * Ow * Lanes, wp = weight + r * Kw;
            for (int kk = 0; kk < count; kk++, d += ldk, wp += ldw)
            {
                Vector512<float> v0 = Vector512.Load(d), v1 = Vector512.Load(d + 16), v2 = Vector512.Load(d + 32), v3 = Vector512.Load(d + 48);
                Vector512<float> v4 = Vector512.Load(d + 64), v5 = Vector512.Load(d + 80), v6 = Vector512.Load(d + 96), v7 = Vector512.Load(d + 112);
                Vector512<float> w;
                    w = Vector512.Create(wp[0]);
                    s0 = Vector512.FusedMultiplyAdd(v0, w, s0); s1 = Vector512.FusedMultiplyAdd(v1, w, s1); s2 = Vector512.FusedMultiplyAdd(v2, w, s2); s3 = Vector512.FusedMultiplyAdd(v3, w, s3);
                    s4 = Vector512.FusedMultiplyAdd(v4, w, s4); s5 = Vector512.FusedMultiplyAdd(v5, w, s5); s6 = Vector512.FusedMultiplyAdd(v6, w, s6); s7 = Vector512.FusedMultiplyAdd(v7, w, s7);
                    w = Vector512.Create(wp[1]);
                    s1 = Vector512.FusedMultiplyAdd(v0, w, s1); s2 = Vector512.FusedMultiplyAdd(v1, w, s2); s3 = Vector512.FusedMultiplyAdd(v2, w, s3); s4 = Vector512.FusedMultiplyAdd(v3, w, s4);
                    s5 = Vector512.FusedMultiplyAdd(v4, w, s5); s6 = Vector512.FusedMultiplyAdd(v5, w, s6); s7 = Vector512.FusedMultiplyAdd(v6, w, s7); s8 = Vector512.FusedMultiplyAdd(v7, w, s8);
                    w = Vector512.Create(wp[2]);
                    s2 = Vector512.FusedMultiplyAdd(v0, w, s2); s3 = Vector512.FusedMultiplyAdd(v1, w, s3); s4 = Vector512.FusedMultiplyAdd(v2, w, s4); s5 = Vector512.FusedMultiplyAdd(v3, w, s5);
                    s6 = Vector512.FusedMultiplyAdd(v4, w, s6); s7 = Vector512.FusedMultiplyAdd(v5, w, s7); s8 = Vector512.FusedMultiplyAdd(v6, w, s8); s9 = Vector512.FusedMultiplyAdd(v7, w, s9);
                    w = Vector512.Create(wp[3]);
                    s3 = Vector512.FusedMultiplyAdd(v0, w, s3); s4 = Vector512.FusedMultiplyAdd(v1, w, s4); s5 = Vector512.FusedMultiplyAdd(v2, w, s5); s6 = Vector512.FusedMultiplyAdd(v3, w, s6);
                    s7 = Vector512.FusedMultiplyAdd(v4, w, s7); s8 = Vector512.FusedMultiplyAdd(v5, w, s8); s9 = Vector512.FusedMultiplyAdd(v6, w, s9); s10 = Vector512.FusedMultiplyAdd(v7, w, s10);
                    w = Vector512.Create(wp[4]);
                    s4 = Vector512.FusedMultiplyAdd(v0, w, s4); s5 = Vector512.FusedMultiplyAdd(v1, w, s5); s6 = Vector512.FusedMultiplyAdd(v2, w, s6); s7 = Vector512.FusedMultiplyAdd(v3, w, s7);
                    s8 = Vector512.FusedMultiplyAdd(v4, w, s8); s9 = Vector512.FusedMultiplyAdd(v5, w, s9); s10 = Vector512.FusedMultiplyAdd(v6, w, s10); s11 = Vector512.FusedMultiplyAdd(v7, w, s11);
            }
        }
        s0.Store(dst); s1.Store(dst + 16); s2.Store(dst + 32); s3.Store(dst + 48); s4.Store(dst + 64); s5.Store(dst + 80);
        s6.Store(dst + 96); s7.Store(dst + 112); s8.Store(dst + 128); s9.Store(dst + 144); s10.Store(dst + 160); s11.Store(dst + 176);
    }

    /// <summary>dx[(16*grp + l), channel, q] = src[q*16 + l] for q &lt; plane and images below n.</summary>
    private static void FromLanes(float* src, int plane, float* dx, int channels, int channel, int grp, int n)
    {
        long imageStride = (long)channels * plane;
        int q0 = 0;
        if (n - grp * Lanes >= Lanes && Avx512F.IsSupported)   // 16 images: whole 16x16 blocks
            for (float* d = dx + grp * Lanes * imageStride + (long)channel * plane; q0 + Lanes <= plane; q0 += Lanes)
                Transpose16.Block16x16(src + q0 * Lanes, Lanes, d + q0, imageStride);
        for (int half = 0; half < 2; half++)
        {
            int i0 = grp * Lanes + half * 8, live = Math.Clamp(n - i0, 0, 8);
            float* s = src + half * 8, d = dx + i0 * imageStride + (long)channel * plane;
            int q = q0;
            if (live == 8)
                for (; q + 8 <= plane; q += 8) Transpose8x8.Block(s + q * Lanes, Lanes, d + q, imageStride);
            for (; q < plane; q++)
                for (int l = 0; l < live; l++) d[l * imageStride + q] = s[q * Lanes + l];
        }
    }
}
