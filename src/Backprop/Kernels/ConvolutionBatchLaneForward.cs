using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The forward of a stride-1, unpadded 5x5 convolution with 8-pixel output rows (LeNet's conv2: 20 -> 50 channels,
/// 12x12 -> 8x8) by Winograd F(2x2, 5x5), with the 16 lanes of a vector running over 16 images (the layout of
/// <see cref="ConvolutionBatchLaneWeightGradient"/>). <see cref="ConvolutionWinograd"/> needs C and K multiples of 16
/// (20 and 50 would be padded to 32 and 64); here the channels are plain loop counts and the images fill the lanes:
/// per 2x2 output tile 36 products per (k, c) instead of 100. Steps: x moved to lanes (8x8 transposes, images past N
/// zero lanes); the weights transformed once per call, U[pos][k][c] = (G g G^T)[pos] in double, rounded once; then per
/// unit (16 images, one row of four 2x2 tiles) the input transform V = B^T d B of every (c, tile), for each block of 5
/// output channels and each of the 36 positions the products M = U V summed over c in order (5 x 4 vectors in registers,
/// U broadcast), the output transform A^T M A + bias, and the unit's two output rows moved back from lanes into y.
/// Transforms and coefficients are <see cref="ConvolutionWinograd"/>'s F(2x2, 5x5) (its error bound holds). Every
/// output is computed in the same order whatever the thread split. AVX-512 only (a vector is 16 images).
/// </summary>
internal static unsafe class ConvolutionBatchLaneForward
{
    private const int Lanes = 16, Ow = 8, Tiles = Ow / 2, Kb = 5, Pos = 36;

    /// <summary>Groups 1, 5x5, stride 1, dilation 1, no padding, 8-pixel output rows, an even number of them, AVX-512, batch >= 8.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        SimdWidth.Allows512(SimdWidth.Max) && g.Groups == 1 && g.KernelWidth == 5 && g.KernelHeight == 5 && g.OutWidth == Ow
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.PadHeight == 0 && g.PadWidth == 0 && g.Batch >= 8 && g.OutHeight % 2 == 0 && g.InHeight <= 32
        && g.InChannels <= 256 && g.OutChannels <= 1024;

    // x: (N, C, H, 12); weight: (K, C, 5, 5); bias: (K) or null; y: (N, K, OH, 8) overwritten
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu)
    {
        int n = g.Batch, c = g.InChannels, k = g.OutChannels, hw = g.InHeight * g.InWidth;
        int groups = (n + Lanes - 1) / Lanes, kPadded = (k + Kb - 1) / Kb * Kb, kc = kPadded * c;
        int weightBlocks = (kc + 7) / 8;
        long xLength = (long)groups * c * hw * Lanes, uLength = (long)Pos * kc;
        float[] buffer = ArrayPool<float>.Shared.Rent((int)(xLength + uLength) + 16);
        try
        {
            fixed (float* pb = buffer)
            {
                float* xT = ConvolutionImplicitGemm.Align64(pb), u = xT + xLength;
                Conv2dGeometry geo = g;
                nint ix = (nint)x, ixT = (nint)xT, iu = (nint)u, iw = (nint)weight, ib = (nint)bias, iy = (nint)y;
                int xUnits = groups * c;
                KernelThreads.For(xUnits + weightBlocks, (s, e) =>
                {
                    for (int v = s; v < e; v++)
                    {
                        if (v < xUnits)
                        {
                            int grp = v / geo.InChannels, ch = v % geo.InChannels;
                            ConvolutionBatchLaneWeightGradient.ToLanes((float*)ix, geo.InChannels, hw, ch, grp, geo.Batch,
                                (float*)ixT + ((long)grp * geo.InChannels + ch) * hw * Lanes);
                        }
                        else TransformWeights((float*)iw, geo.OutChannels * geo.InChannels, kc, v - xUnits, (float*)iu);
                    }
                });
                int tileRows = g.OutHeight / 2;
                KernelThreads.For(groups * tileRows, (s, e) => Units(geo, s, e, (float*)ixT, (float*)iu, kPadded, (float*)ib, (float*)iy, relu));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Block b of 8 kernels (k*C + c = 8b .. 8b + 7; those at or past `live` are zero): U[pos * kc + k*C + c] = (G g G^T)[pos].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformWeights(float* weight, int live, int kc, int b, float* u)
    {
        double* g = stackalloc double[25 * 8];
        for (int l = 0; l < 8; l++)
        {
            int i = b * 8 + l;
            for (int tap = 0; tap < 25; tap++) g[tap * 8 + l] = i < live ? weight[(long)i * 25 + tap] : 0.0;
        }
        var t = stackalloc Vector512<double>[30];   // G g: t[a*5 + j], 6 x 5
        for (int j = 0; j < 5; j++)
            Filter(Vector512.Load(g + j * 8), Vector512.Load(g + (5 + j) * 8), Vector512.Load(g + (10 + j) * 8),
                Vector512.Load(g + (15 + j) * 8), Vector512.Load(g + (20 + j) * 8),
                out t[j], out t[5 + j], out t[10 + j], out t[15 + j], out t[20 + j], out t[25 + j]);
        float* dst = u + b * 8;
        int count = Math.Min(8, kc - b * 8);
        float* row = stackalloc float[8];
        for (int a = 0; a < 6; a++)
        {
            Filter(t[5 * a], t[5 * a + 1], t[5 * a + 2], t[5 * a + 3], t[5 * a + 4], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
            Store(u0, dst + (long)(6 * a) * kc, count, row); Store(u1, dst + (long)(6 * a + 1) * kc, count, row);
            Store(u2, dst + (long)(6 * a + 2) * kc, count, row); Store(u3, dst + (long)(6 * a + 3) * kc, count, row);
            Store(u4, dst + (long)(6 * a + 4) * kc, count, row); Store(u5, dst + (long)(6 * a + 5) * kc, count, row);
        }
    }

    private static void Store(Vector512<double> v, float* dst, int count, float* row)
    {
        Vector256.Narrow(v.GetLower(), v.GetUpper()).Store(row);
        for (int i = 0; i < count; i++) dst[i] = row[i];
    }

    // ConvolutionWinograd's G (6x5) for F(2x2, 5x5) times (g0..g4), in double:
    // G = [1/4 0 0 0 0; -1/6 -1/6 -1/6 -1/6 -1/6; -1/6 1/6 -1/6 1/6 -1/6; 1/24 1/12 1/6 1/3 2/3; 1/24 -1/12 1/6 -1/3 2/3; 0 0 0 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Filter(Vector512<double> g0, Vector512<double> g1, Vector512<double> g2, Vector512<double> g3, Vector512<double> g4,
        out Vector512<double> o0, out Vector512<double> o1, out Vector512<double> o2, out Vector512<double> o3, out Vector512<double> o4,
        out Vector512<double> o5)
    {
        Vector512<double> even = g0 + g2 + g4, odd = g1 + g3;
        Vector512<double> q = g0 / 24 + g2 / 6 + g4 * 2 / 3, r = g1 / 12 + g3 / 3;
        o0 = g0 / 4;
        o1 = -(even + odd) / 6;
        o2 = -(even - odd) / 6;
        o3 = q + r;
        o4 = q - r;
        o5 = g4;
    }

    // Units [u0, u1) of (group of 16 images, tile row): output rows 2*ty and 2*ty + 1 of every channel for those images.
    private static void Units(in Conv2dGeometry g, int u0, int u1, float* xT, float* u, int kPadded, float* bias, float* y, bool relu)
    {
        int c = g.InChannels, k = g.OutChannels, h = g.InHeight, w = g.InWidth, oh = g.OutHeight, tileRows = oh / 2;
        long vLength = (long)Pos * c * Tiles * Lanes, mLength = Pos * Kb * Tiles * Lanes, rowsLength = (long)k * 2 * Ow * Lanes;
        float[] buffer = ArrayPool<float>.Shared.Rent((int)(vLength + mLength + rowsLength + 36 * Lanes) + 16);
        try
        {
            fixed (float* pb = buffer)
            {
                float* v = ConvolutionImplicitGemm.Align64(pb), m = v + vLength, rows = m + mLength, scratch = rows + rowsLength;
                long vPos = (long)c * Tiles * Lanes, uPos = (long)kPadded * c;
                const int mPos = Kb * Tiles * Lanes;
                for (int unit = u0; unit < u1; unit++)
                {
                    int grp = unit / tileRows, ty = unit % tileRows;
                    float* xg = xT + (long)grp * c * h * w * Lanes + 2 * ty * w * Lanes;
                    for (int ch = 0; ch < c; ch++)
                        for (int t = 0; t < Tiles; t++)
                            ConvolutionWinogradTransforms.InputTile512(xg + ((long)ch * h * w + 2 * t) * Lanes, w * Lanes,
                                v + ((long)ch * Tiles + t) * Lanes, vPos, scratch);
                    for (int k0 = 0; k0 < k; k0 += Kb)
                    {
                        for (int pos = 0; pos < Pos; pos++)
                            Products(v + pos * vPos, u + pos * uPos + (long)k0 * c, c, m + pos * mPos);
                        int live = Math.Min(Kb, k - k0);
                        for (int kk = 0; kk < live; kk++)
                        {
                            float b = bias != null ? bias[k0 + kk] : 0f;
                            for (int t = 0; t < Tiles; t++)
                                OutputTile(m + (kk * Tiles + t) * Lanes, mPos, b, relu, scratch, rows + ((long)(k0 + kk) * 2 * Ow + 2 * t) * Lanes);
                        }
                    }
                    // Each channel's two output rows are 16 consecutive pixels of its plane.
                    long imageStride = (long)k * oh * Ow;
                    for (int kk = 0; kk < k; kk++)
                        FromLanes(rows + (long)kk * 2 * Ow * Lanes, 2 * Ow, y + (long)kk * oh * Ow + 2 * ty * Ow, imageStride, grp, g.Batch);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// m[(i*4 + t)*16 + l] = sum over ch &lt; c, in order, of u[i*c + ch] * v[(ch*4 + t)*16 + l], for 5 output channels i
    /// and the 4 tiles t of one position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Products(float* v, float* u, int c, float* m)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        float* u1 = u + c, u2 = u + 2 * c, u3 = u + 3 * c, u4 = u + 4 * c;
        for (int ch = 0; ch < c; ch++, v += Tiles * Lanes)
        {
            Vector512<float> v0 = Vector512.Load(v), v1 = Vector512.Load(v + 16), v2 = Vector512.Load(v + 32), v3 = Vector512.Load(v + 48);
            Vector512<float> w = Vector512.Create(u[ch]);
            a00 = Vector512.FusedMultiplyAdd(v0, w, a00); a01 = Vector512.FusedMultiplyAdd(v1, w, a01);
            a02 = Vector512.FusedMultiplyAdd(v2, w, a02); a03 = Vector512.FusedMultiplyAdd(v3, w, a03);
            w = Vector512.Create(u1[ch]);
            a10 = Vector512.FusedMultiplyAdd(v0, w, a10); a11 = Vector512.FusedMultiplyAdd(v1, w, a11);
            a12 = Vector512.FusedMultiplyAdd(v2, w, a12); a13 = Vector512.FusedMultiplyAdd(v3, w, a13);
            w = Vector512.Create(u2[ch]);
            a20 = Vector512.FusedMultiplyAdd(v0, w, a20); a21 = Vector512.FusedMultiplyAdd(v1, w, a21);
            a22 = Vector512.FusedMultiplyAdd(v2, w, a22); a23 = Vector512.FusedMultiplyAdd(v3, w, a23);
            w = Vector512.Create(u3[ch]);
            a30 = Vector512.FusedMultiplyAdd(v0, w, a30); a31 = Vector512.FusedMultiplyAdd(v1, w, a31);
            a32 = Vector512.FusedMultiplyAdd(v2, w, a32); a33 = Vector512.FusedMultiplyAdd(v3, w, a33);
            w = Vector512.Create(u4[ch]);
            a40 = Vector512.FusedMultiplyAdd(v0, w, a40); a41 = Vector512.FusedMultiplyAdd(v1, w, a41);
            a42 = Vector512.FusedMultiplyAdd(v2, w, a42); a43 = Vector512.FusedMultiplyAdd(v3, w, a43);
        }
        a00.Store(m); a01.Store(m + 16); a02.Store(m + 32); a03.Store(m + 48);
        a10.Store(m + 64); a11.Store(m + 80); a12.Store(m + 96); a13.Store(m + 112);
        a20.Store(m + 128); a21.Store(m + 144); a22.Store(m + 160); a23.Store(m + 176);
        a30.Store(m + 192); a31.Store(m + 208); a32.Store(m + 224); a33.Store(m + 240);
        a40.Store(m + 256); a41.Store(m + 272); a42.Store(m + 288); a43.Store(m + 304);
    }

    // m: position pos's 16 images at m + pos * posStride; pixels: the 2x2 tile, row r, column q at pixels + (r*8 + q)*16,
    // overwritten with A^T M A + bias, then max(., 0) with ReluForward's bits when relu.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile(float* m, long posStride, float bias, bool relu, float* scratch, float* pixels)
    {
        for (int a = 0; a < 6; a++)
        {
            float* s = m + 6 * a * posStride;
            OutputLine(Vector512.Load(s), Vector512.Load(s + posStride), Vector512.Load(s + 2 * posStride), Vector512.Load(s + 3 * posStride),
                Vector512.Load(s + 4 * posStride), Vector512.Load(s + 5 * posStride), out var o0, out var o1);
            o0.Store(scratch + (a * 2) * Lanes); o1.Store(scratch + (a * 2 + 1) * Lanes);
        }
        Vector512<float> b = Vector512.Create(bias);
        for (int q = 0; q < 2; q++)
        {
            float* s = scratch + q * Lanes;
            OutputLine(Vector512.Load(s), Vector512.Load(s + 2 * Lanes), Vector512.Load(s + 4 * Lanes), Vector512.Load(s + 6 * Lanes),
                Vector512.Load(s + 8 * Lanes), Vector512.Load(s + 10 * Lanes), out var o0, out var o1);
            ConvolutionWinogradTransforms.Finish(o0 + b, relu).Store(pixels + q * Lanes);
            ConvolutionWinogradTransforms.Finish(o1 + b, relu).Store(pixels + (Ow + q) * Lanes);
        }
    }

    /// <summary>dst[(16*grp + l) * imageStride + q] = src[q*16 + l] for q &lt; count and images below n.</summary>
    private static void FromLanes(float* src, int count, float* dst, long imageStride, int grp, int n)
    {
        int q0 = 0;
        if (n - grp * Lanes >= Lanes && Avx512F.IsSupported)   // 16 images: whole 16x16 blocks
            for (float* d = dst + grp * Lanes * imageStride; q0 + Lanes <= count; q0 += Lanes)
                Transpose16.Block16x16(src + q0 * Lanes, Lanes, d + q0, imageStride);
        for (int half = 0; half < 2; half++)
        {
            int i0 = grp * Lanes + half * 8, live = Math.Clamp(n - i0, 0, 8);
            float* s = src + half * 8, d = dst + i0 * imageStride;
            int q = q0;
            if (live == 8)
                for (; q + 8 <= count; q += 8) Transpose8x8.Block(s + q * Lanes, Lanes, d + q, imageStride);
            for (; q < count; q++)
                for (int l = 0; l < live; l++) d[l * imageStride + q] = s[q * Lanes + l];
        }
    }

    // F(2x2, 5x5)'s A^T (m0..m5): [1 1 1 1 1 0; 0 1 -1 2 -2 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> o0, out Vector512<float> o1)
    {
        Vector512<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        o0 = m0 + s12 + s34;
        o1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), d34, d12) + m5;
    }
}
