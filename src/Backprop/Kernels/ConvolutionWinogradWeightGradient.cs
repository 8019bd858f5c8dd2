using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The weight gradient of a 3x3 or 5x5, stride-1 convolution by Winograd F(4x4, 3x3) or F(4x4, 5x5), the adjoint of
/// <see cref="ConvolutionWinograd"/>'s forward y_tile = A^T [ (G g G^T) ⊙ (B^T d B) ] A with respect to g:
/// dW[k, c] = G^T M_kc G, M_kc = the sum over every tile of every image of (A dY_tile A^T) ⊙ (B^T d_tile B), where dY_tile
/// is the tile's 4x4 block of dy (zero past the output's edge) and d_tile its 6x6 (8x8) input patch (padded as forward).
/// The 36 (64) elementwise products summed over tiles are as many matrix products M[pos] (Kp x Cp) = W[pos]^T V[pos] whose
/// depth is the number of tiles (<see cref="ConvolutionWinogradWeightGradientKernels"/>): 36 multiply-adds per (k, c)
/// and 16 output pixels instead of 144 (3x3), 64 instead of 400 (5x5).
/// <list type="number">
/// <item>The tiles are cut into a fixed number of slabs (from the tile count and M's size, never the thread count); each
/// slab sums into its own M, block by block of tiles sized to stay in L2: per block the transforms
/// (<see cref="ConvolutionWinogradWeightGradientTransforms"/>), then the products.</item>
/// <item>Per (k, c): the slabs' M added in slab order in double, then G^T M G (G 6x3 or 8x5) in double, rounded once into dWeight.</item>
/// </list>
/// Threads take whole slabs, then output channels: the same bits for any <see cref="KernelThreads.Count"/>. Rounding
/// differs from a direct sum (the transforms scale by up to 8 before the tile sums): see
/// ConvolutionWinogradWeightGradientTests for the measured error. AVX-512 or AVX2 only, as the forward.
/// </summary>
internal static unsafe class ConvolutionWinogradWeightGradient
{
    private const int L = ConvolutionWinograd.Lanes;
    private const int MaxSlabs = 8;
    private const int MinSlabTiles = 64;            // a slab's partial M (read once more at the end) pays for itself
    private const long PartialBudget = 16L << 20;   // floats of partial M's held at once
    private const long BlockBudget = 1L << 20;      // bytes of V + W per block: half of a core's L2 here
    private const double Sixth = 1.0 / 6, Twelfth = 1.0 / 12, TwentyFourth = 1.0 / 24;   // in double: off by 2^-53 at most
    private const double TwoNinths = 2.0 / 9;

    /// <summary>True when <see cref="Compute"/> can run this convolution's weight gradient (what the forward supports: 3x3 or 5x5; M within budget).</summary>
    public static bool Supports(in Conv2dGeometry g) =>
        ConvolutionWinograd.Supports(g) && MLength(ConvolutionWinograd.PositionsOf(g.KernelHeight), RoundUp(g.InChannels), RoundUp(g.OutChannels)) <= PartialBudget
        && ImageCopyLength(g) <= ImageCopyBudget;

    // Each slab's worker holds one image of x and of dy channel-blocked and bordered: (Cp + Kp) Hp Wp floats. Larger
    // images (hundreds of channels at 1000x1000) keep the direct path rather than renting gigabytes per thread.
    private const long ImageCopyBudget = 16L << 20;

    private static long ImageCopyLength(in Conv2dGeometry g)
    {
        int step = ConvolutionWinograd.TileStep, r = g.KernelHeight;
        long hp = (long)step * ((g.OutHeight + step - 1) / step) + r - 1, wp = (long)step * ((g.OutWidth + step - 1) / step) + r - 1;
        return (RoundUp(g.InChannels) + (long)RoundUp(g.OutChannels)) * Math.Max(hp, g.InHeight + 2L * r) * Math.Max(wp, g.InWidth + 2L * r);
    }

    /// <summary>
    /// Where it runs faster than <see cref="ConvolutionDirectWeightGradient"/> (bench/ab medians, 2 threads, AVX-512, load
    /// 23-39 on 2 cores, so rough): 0.54-0.68x at ResNet-20's 32->32 16x16 batch 128, 0.49-0.60x at 64->64 8x8, 0.49-0.62x
    /// at 16->16 32x32; 0.4-0.7x on VGG's 32..256-channel layers at batch 32; 0.55-0.75x at batch 1 from 16 tiles up (one
    /// slab, one thread). With 8 tiles (64->64 8x8, batch 2) it ran 1.2x. Channel counts that are not multiples of 16
    /// (padded blocks, not measured) keep the other paths. 5x5 (then F(2x2, 5x5)), against the direct path at cifar10_quick's
    /// batch 100: conv2 (32->32 16x16) best time 0.47x, median 0.52x; conv3 (32->64 8x8) best 0.36x, median 0.64x (load
    /// 28-30 on 2 cores); at batch 1, 32->64 8x8 (16 tiles) 0.55x median, 16->16 16x16 0.64x median (best times equal):
    /// the same 16-tile floor, counted in 2x2 tiles. F(4x4, 5x5) against F(2x2, 5x5) (seventeenth pass, bench/ab, 1 thread CPU
    /// time): conv2 0.66x, conv3 0.67x; the floor is now counted in 4x4 tiles.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Supports(g) && g.InChannels >= L && g.OutChannels >= L && g.InChannels % L == 0 && g.OutChannels % L == 0
        && Tiles(g) >= MinTiles;

    private static long Tiles(in Conv2dGeometry g)
    {
        const int step = ConvolutionWinograd.TileStep;
        return (long)g.Batch * ((g.OutHeight + step - 1) / step) * ((g.OutWidth + step - 1) / step);
    }

    private const int MinTiles = 16;

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C, r, r) overwritten, r = 3 or 5. Needs Supports.
    public static void Compute(in Conv2dGeometry g, float* x, float* dy, float* dWeight)
    {
        var p = new WinogradPlan(g);
        // dy read as a K-channel input padded by (r - 1) / 2 (so its output is OH x OW again): the same tiles, each tile's
        // step x step block at padded (step tr + pad, step tc + pad), zeros past it.
        int pad = (p.Kernel - 1) / 2;
        var dp = new WinogradPlan(g with { InChannels = g.OutChannels, InHeight = g.OutHeight, InWidth = g.OutWidth, PadHeight = pad, PadWidth = pad });
        long mLength = MLength(p.Positions, p.Cp, p.Kp);
        int slabs = Slabs(p.Tiles, mLength);
        var partial = ScratchArena.Shared.Rent(slabs * mLength + 16);
        try
        {
            float* pp = partial.Pointer;
            {
                float* m = (float*)(((nint)pp + 63) & ~(nint)63);
                nint ix = (nint)x, idy = (nint)dy, im = (nint)m, idw = (nint)dWeight;
                int width = SimdWidth.Max, tiles = p.Tiles;
                KernelThreads.For(slabs, (s, e) =>
                {
                    for (int slab = s; slab < e; slab++)
                        Slab(p, dp, width, (int)((long)slab * tiles / slabs), (int)((long)(slab + 1) * tiles / slabs),
                            (float*)ix, (float*)idy, (float*)im + slab * mLength);
                });
                if (p.Kernel == 3) KernelThreads.For(p.K, (s, e) => Filter(p, slabs, mLength, (float*)im, s, e, (float*)idw));
                else KernelThreads.For(p.K, (s, e) => Filter5x5(p, slabs, mLength, (float*)im, s, e, (float*)idw));
            }
        }
        finally
        {
            ScratchArena.Shared.Return(partial);
        }
    }

    private static int RoundUp(int channels) => (channels + L - 1) / L * L;

    private static long MLength(int positions, int cp, int kp) => (long)positions * kp * cp;

    // Powers of two up to MaxSlabs, so 2, 4 or 8 threads share them evenly; at least MinSlabTiles tiles each.
    private static int Slabs(int tiles, long mLength)
    {
        long most = Math.Min(Math.Min(MaxSlabs, tiles / MinSlabTiles), PartialBudget / mLength);
        int slabs = 1;
        while (slabs * 2 <= most) slabs *= 2;
        return slabs;
    }

    // Tiles [t0, t1) summed into m: (positions, Kp, Cp) overwritten.
    private static void Slab(in WinogradPlan p, in WinogradPlan dp, int width, int t0, int t1, float* x, float* dy, float* m)
    {
        int positions = p.Positions;
        long perTile = 4L * positions * (p.Cp + p.Kp);
        // Wide layers read all of M (positions Kp Cp floats) per block: blocks grow until M's share per tile is about V's and W's.
        int blockTiles = (int)Math.Clamp(BlockBudget / perTile, 16, 256);
        blockTiles = Math.Max(blockTiles, (int)Math.Min(256, (long)p.Cp * p.Kp / (2L * (p.Cp + p.Kp))));
        blockTiles = Math.Max(1, Math.Min(blockTiles, t1 - t0));
        long vLength = positions * WinogradPlan.PositionStride(blockTiles, p.Cp), wLength = positions * WinogradPlan.PositionStride(blockTiles, p.Kp);
        long inLength = (long)p.Cp * p.Hp * p.Wp, dyInLength = (long)p.Kp * p.Hp * p.Wp;
        var buffer = ScratchArena.Shared.Rent(vLength + wLength + inLength + dyInLength + positions * L + 16);
        try
        {
            float* pbuf = buffer.Pointer;
            {
                float* v = (float*)(((nint)pbuf + 63) & ~(nint)63);
                float* w = v + vLength, input = w + wLength, dyInput = input + inLength, scratch = dyInput + dyInLength;
                new Span<float>(m, (int)MLength(positions, p.Cp, p.Kp)).Clear();
                for (int b = t0; b < t1; b += blockTiles)
                {
                    int count = Math.Min(blockTiles, t1 - b);
                    ConvolutionWinogradWeightGradientTransforms.Block(p, dp, width, b, count, x, dy, input, dyInput, blockTiles, v, w, scratch);
                    ConvolutionWinogradWeightGradientKernels.Products(width, positions, p.Cp, p.Kp, blockTiles, count, w, v, m);
                }
            }
        }
        finally
        {
            ScratchArena.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// dWeight[k, c] = G^T M G for output channels [k0, k1), M = the slabs' partial M's added in slab order, all in
    /// double (four input channels per vector), rounded once.
    /// </summary>
    // m: (slabs, 36, Kp, Cp); dWeight: (K, C, 3, 3)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Filter(in WinogradPlan p, int slabs, long mLength, float* m, int k0, int k1, float* dWeight)
    {
        int c = p.C, cp = p.Cp;
        long posStride = (long)p.Kp * cp;
        Vector256<double>* t = stackalloc Vector256<double>[ConvolutionWinograd.Positions];
        Vector256<double>* r = stackalloc Vector256<double>[18];   // G^T M: 3 x 6
        double* o = stackalloc double[9 * 4];
        for (int k = k0; k < k1; k++)
            for (int c0 = 0; c0 < c; c0 += 4)
            {
                SumSlabs(m + (long)k * cp + c0, posStride, ConvolutionWinograd.Positions, slabs, mLength, t);
                for (int b = 0; b < 6; b++)   // G^T along each column of M
                    Back(t[b], t[6 + b], t[12 + b], t[18 + b], t[24 + b], t[30 + b], out r[b], out r[6 + b], out r[12 + b]);
                for (int i = 0; i < 3; i++)   // then along each row of G^T M
                {
                    Vector256<double>* row = r + 6 * i;
                    Back(row[0], row[1], row[2], row[3], row[4], row[5], out var o0, out var o1, out var o2);
                    o0.Store(o + (3 * i) * 4); o1.Store(o + (3 * i + 1) * 4); o2.Store(o + (3 * i + 2) * 4);
                }
                for (int l = 0; l < 4 && c0 + l < c; l++)
                {
                    float* dst = dWeight + ((long)k * c + c0 + l) * 9;
                    for (int q = 0; q < 9; q++) dst[q] = (float)o[q * 4 + l];
                }
            }
    }

    // t[pos] = the 4 channels at src of position pos, summed over the slabs in slab order, in double.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumSlabs(float* src, long posStride, int positions, int slabs, long mLength, Vector256<double>* t)
    {
        for (int pos = 0; pos < positions; pos++)
        {
            float* s = src + pos * posStride;
            Vector256<double> sum = Avx.ConvertToVector256Double(Vector128.Load(s));
            for (int slab = 1; slab < slabs; slab++) sum += Avx.ConvertToVector256Double(Vector128.Load(s + slab * mLength));
            t[pos] = sum;
        }
    }

    /// <summary>As <see cref="Filter"/>, F(4x4, 5x5): dWeight[k, c] (5x5) = G^T M G with the 8x5 G.</summary>
    // m: (slabs, 64, Kp, Cp); dWeight: (K, C, 5, 5)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Filter5x5(in WinogradPlan p, int slabs, long mLength, float* m, int k0, int k1, float* dWeight)
    {
        int c = p.C, cp = p.Cp;
        long posStride = (long)p.Kp * cp;
        int positions = ConvolutionWinograd.PositionsOf(5);
        Vector256<double>* t = stackalloc Vector256<double>[positions];
        Vector256<double>* r = stackalloc Vector256<double>[40];   // G^T M: 5 x 8
        double* o = stackalloc double[25 * 4];
        for (int k = k0; k < k1; k++)
            for (int c0 = 0; c0 < c; c0 += 4)
            {
                SumSlabs(m + (long)k * cp + c0, posStride, positions, slabs, mLength, t);
                for (int b = 0; b < 8; b++)
                    Back5(t[b], t[8 + b], t[16 + b], t[24 + b], t[32 + b], t[40 + b], t[48 + b], t[56 + b],
                        out r[b], out r[8 + b], out r[16 + b], out r[24 + b], out r[32 + b]);
                for (int i = 0; i < 5; i++)
                {
                    Vector256<double>* row = r + 8 * i;
                    double* dst = o + 5 * i * 4;
                    Back5(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], out var o0, out var o1, out var o2, out var o3, out var o4);
                    o0.Store(dst); o1.Store(dst + 4); o2.Store(dst + 8); o3.Store(dst + 12); o4.Store(dst + 16);
                }
                for (int l = 0; l < 4 && c0 + l < c; l++)
                {
                    float* dst = dWeight + ((long)k * c + c0 + l) * 25;
                    for (int q = 0; q < 25; q++) dst[q] = (float)o[q * 4 + l];
                }
            }
    }

    // G^T (m0..m7) for F(4x4, 5x5)'s G (ConvolutionWinograd's Filter8), four lanes of doubles:
    // G^T = [1 -2/9 -2/9 1/90 1/90 32/45 32/45 0; 0 -2/9 2/9 1/45 -1/45 16/45 -16/45 0; 0 -2/9 -2/9 2/45 2/45 8/45 8/45 0;
    //        0 -2/9 2/9 4/45 -4/45 4/45 -4/45 0; 0 -2/9 -2/9 8/45 8/45 2/45 2/45 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Back5(Vector256<double> m0, Vector256<double> m1, Vector256<double> m2, Vector256<double> m3, Vector256<double> m4,
        Vector256<double> m5, Vector256<double> m6, Vector256<double> m7, out Vector256<double> o0, out Vector256<double> o1,
        out Vector256<double> o2, out Vector256<double> o3, out Vector256<double> o4)
    {
        Vector256<double> s12 = (m1 + m2) * TwoNinths, d21 = (m2 - m1) * TwoNinths, s34 = m3 + m4, d34 = m3 - m4, s56 = m5 + m6, d56 = m5 - m6;
        o0 = m0 - s12 + s34 / 90 + s56 * 32 / 45;
        o1 = d21 + d34 / 45 + d56 * 16 / 45;
        o2 = s34 * 2 / 45 + s56 * 8 / 45 - s12;
        o3 = d21 + (d34 + d56) * 4 / 45;
        o4 = s34 * 8 / 45 + s56 * 2 / 45 - s12 + m7;
    }

    // G^T (m0..m5), four lanes of doubles; G^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Back(Vector256<double> m0, Vector256<double> m1, Vector256<double> m2, Vector256<double> m3, Vector256<double> m4,
        Vector256<double> m5, out Vector256<double> o0, out Vector256<double> o1, out Vector256<double> o2)
    {
        Vector256<double> s12 = m1 + m2, s34 = m3 + m4, d21 = m2 - m1, d34 = m3 - m4;
        o0 = m0 * 0.25 - s12 * Sixth + s34 * TwentyFourth;
        o1 = d21 * Sixth + d34 * Twelfth;
        o2 = (s34 - s12) * Sixth + m5;
    }
}
