using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The 36 (F(4x4, 3x3)) or 64 (F(4x4, 5x5)) matrix products of <see cref="ConvolutionWinogradWeightGradient"/>: M[pos] (Kp x Cp) += W[pos]^T V[pos], the
/// sum over a block's tiles of W[pos][tile][k] V[pos][tile][c]. Rows = output channels, columns = input channels in
/// vectors; the reduction runs over tiles. Each micro-kernel loads an 8 x 32 (AVX-512: 16 accumulators) or 6 x 16
/// (AVX2: 12; 4 x 16 for the last rows) block of M, adds one tile at a time (two vector loads of V, one broadcast of W per row) and stores it back:
/// every element of M is one chain of fused multiply-adds over the tiles in order, whatever the block size.
/// </summary>
internal static unsafe class ConvolutionWinogradWeightGradientKernels
{
    // w: (positions, blockTiles, Kp) and v: (positions, blockTiles, Cp), positions WinogradPlan.PositionStride apart;
    // m: (positions, Kp, Cp); tiles of the block summed: [0, count)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Products(int width, int positions, int cp, int kp, int blockTiles, int count, float* w, float* v, float* m)
    {
        for (int pos = 0; pos < positions; pos++)
        {
            float* wp = w + pos * WinogradPlan.PositionStride(blockTiles, kp), vp = v + pos * WinogradPlan.PositionStride(blockTiles, cp), mp = m + (long)pos * kp * cp;
            if (width >= 512)
            {
                int c0 = 0;
                for (; c0 + 32 <= cp; c0 += 32)
                    for (int k0 = 0; k0 < kp; k0 += 8) Kernel512x32(count, wp + k0, kp, vp + c0, cp, mp + (long)k0 * cp + c0, cp);
                if (c0 < cp)
                    for (int k0 = 0; k0 < kp; k0 += 8) Kernel512x16(count, wp + k0, kp, vp + c0, cp, mp + (long)k0 * cp + c0, cp);
            }
            else
            {
                // An even number of 6-row tiles leaves a multiple of 4 rows (Kp is a multiple of 16): 16 = 6+6+4, 32 = 4x6+4+4, 64 = 10x6+4.
                int sixes = kp / 12 * 12;
                for (int c0 = 0; c0 < cp; c0 += 16)
                {
                    int k0 = 0;
                    for (; k0 < sixes; k0 += 6) Kernel256x6(count, wp + k0, kp, vp + c0, cp, mp + (long)k0 * cp + c0, cp);
                    for (; k0 < kp; k0 += 4) Kernel256(count, wp + k0, kp, vp + c0, cp, mp + (long)k0 * cp + c0, cp);
                }
            }
        }
    }

    // m (8 x 32, rows ldm apart) += sum over t < depth of w[t * ldw + row] * v[t * ldv + column]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x32(int depth, float* w, nint ldw, float* v, nint ldv, float* m, nint ldm)
    {
        Vector512<float> c00 = Vector512.Load(m), c01 = Vector512.Load(m + 16), c10 = Vector512.Load(m + ldm), c11 = Vector512.Load(m + ldm + 16);
        Vector512<float> c20 = Vector512.Load(m + 2 * ldm), c21 = Vector512.Load(m + 2 * ldm + 16), c30 = Vector512.Load(m + 3 * ldm), c31 = Vector512.Load(m + 3 * ldm + 16);
        Vector512<float> c40 = Vector512.Load(m + 4 * ldm), c41 = Vector512.Load(m + 4 * ldm + 16), c50 = Vector512.Load(m + 5 * ldm), c51 = Vector512.Load(m + 5 * ldm + 16);
        Vector512<float> c60 = Vector512.Load(m + 6 * ldm), c61 = Vector512.Load(m + 6 * ldm + 16), c70 = Vector512.Load(m + 7 * ldm), c71 = Vector512.Load(m + 7 * ldm + 16);
        for (int t = 0; t < depth; t++, w += ldw, v += ldv)
        {
            Vector512<float> b0 = Vector512.Load(v), b1 = Vector512.Load(v + 16);
            Vector512<float> x = Vector512.Create(w[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(w[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(w[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(w[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(w[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(w[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(w[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(w[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        c00.Store(m); c01.Store(m + 16); m += ldm;
        c10.Store(m); c11.Store(m + 16); m += ldm;
        c20.Store(m); c21.Store(m + 16); m += ldm;
        c30.Store(m); c31.Store(m + 16); m += ldm;
        c40.Store(m); c41.Store(m + 16); m += ldm;
        c50.Store(m); c51.Store(m + 16); m += ldm;
        c60.Store(m); c61.Store(m + 16); m += ldm;
        c70.Store(m); c71.Store(m + 16);
    }

    // m (8 x 16) += ..., the last 16 columns where Cp is an odd multiple of 16
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x16(int depth, float* w, nint ldw, float* v, nint ldv, float* m, nint ldm)
    {
        Vector512<float> c0 = Vector512.Load(m), c1 = Vector512.Load(m + ldm), c2 = Vector512.Load(m + 2 * ldm), c3 = Vector512.Load(m + 3 * ldm);
        Vector512<float> c4 = Vector512.Load(m + 4 * ldm), c5 = Vector512.Load(m + 5 * ldm), c6 = Vector512.Load(m + 6 * ldm), c7 = Vector512.Load(m + 7 * ldm);
        for (int t = 0; t < depth; t++, w += ldw, v += ldv)
        {
            Vector512<float> b0 = Vector512.Load(v);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(w[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(w[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(w[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(w[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(w[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(w[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(w[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(w[7]), b0, c7);
        }
        c0.Store(m); m += ldm; c1.Store(m); m += ldm; c2.Store(m); m += ldm; c3.Store(m); m += ldm;
        c4.Store(m); m += ldm; c5.Store(m); m += ldm; c6.Store(m); m += ldm; c7.Store(m);
    }

    // AVX2: m (6 x 16, two 8-float vectors per row) += ...: 12 accumulators of the 16 registers, 8 loads per 12 fused
    // multiply-adds (the 4-row kernel below needs 6 per 8, and its 8 chains barely cover the FMA latency).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256x6(int depth, float* w, nint ldw, float* v, nint ldv, float* m, nint ldm)
    {
        Vector256<float> c00 = Vector256.Load(m), c01 = Vector256.Load(m + 8), c10 = Vector256.Load(m + ldm), c11 = Vector256.Load(m + ldm + 8);
        Vector256<float> c20 = Vector256.Load(m + 2 * ldm), c21 = Vector256.Load(m + 2 * ldm + 8), c30 = Vector256.Load(m + 3 * ldm), c31 = Vector256.Load(m + 3 * ldm + 8);
        Vector256<float> c40 = Vector256.Load(m + 4 * ldm), c41 = Vector256.Load(m + 4 * ldm + 8), c50 = Vector256.Load(m + 5 * ldm), c51 = Vector256.Load(m + 5 * ldm + 8);
        for (int t = 0; t < depth; t++, w += ldw, v += ldv)
        {
            Vector256<float> b0 = Vector256.Load(v), b1 = Vector256.Load(v + 8);
            Vector256<float> x = Vector256.Create(w[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(w[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(w[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(w[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(w[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(w[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        c00.Store(m); c01.Store(m + 8); m += ldm;
        c10.Store(m); c11.Store(m + 8); m += ldm;
        c20.Store(m); c21.Store(m + 8); m += ldm;
        c30.Store(m); c31.Store(m + 8); m += ldm;
        c40.Store(m); c41.Store(m + 8); m += ldm;
        c50.Store(m); c51.Store(m + 8);
    }

    // AVX2: m (4 x 16, two 8-float vectors per row) += ..., the rows past the 6-row tiles
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int depth, float* w, nint ldw, float* v, nint ldv, float* m, nint ldm)
    {
        Vector256<float> c00 = Vector256.Load(m), c01 = Vector256.Load(m + 8), c10 = Vector256.Load(m + ldm), c11 = Vector256.Load(m + ldm + 8);
        Vector256<float> c20 = Vector256.Load(m + 2 * ldm), c21 = Vector256.Load(m + 2 * ldm + 8), c30 = Vector256.Load(m + 3 * ldm), c31 = Vector256.Load(m + 3 * ldm + 8);
        for (int t = 0; t < depth; t++, w += ldw, v += ldv)
        {
            Vector256<float> b0 = Vector256.Load(v), b1 = Vector256.Load(v + 8);
            Vector256<float> x = Vector256.Create(w[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(w[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(w[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(w[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        c00.Store(m); c01.Store(m + 8); m += ldm;
        c10.Store(m); c11.Store(m + 8); m += ldm;
        c20.Store(m); c21.Store(m + 8); m += ldm;
        c30.Store(m); c31.Store(m + 8);
    }
}
