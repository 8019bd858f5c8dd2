using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The 36 (F(4x4, 3x3)) or 64 (F(4x4, 5x5)) matrix products of <see cref="ConvolutionWinograd"/>: M[pos] (tiles x Kp) = V[pos] (tiles x Cp) U[pos] (Cp x Kp),
/// rows = tiles, columns = output channels in vectors. Each micro-kernel holds a 12 x 32 (AVX-512) or 6 x 16 (AVX2)
/// block of M in registers: per input channel it loads the U row's vectors once and broadcasts one V value per tile.
/// On AVX-512 the rows past the last whole 12 go four at a time (4 x 64, 4 x 32, 4 x 16 blocks): a batch-1 layer's 16
/// tiles then compute 16 rows, not 24, and 64 tiles 64, not 72.
/// Every element of M is one chain of fused multiply-adds over c = 0..Cp-1 from zero, whichever kernel computes it.
/// </summary>
internal static unsafe class ConvolutionWinogradKernels
{
    // v: (positions, blockTiles, Cp) and m: (positions, blockTiles, Kp), positions WinogradPlan.PositionStride apart;
    // u: (positions, Kp/16, Cp, 16); rows of each V[pos] and M[pos] computed:
    // [0, rows), columns [kFirst, kEnd) (multiples of 16; kEnd -1: all Kp)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Products(int width, in WinogradPlan p, int blockTiles, int rows, float* v, float* u, float* m, int kFirst = 0, int kEnd = -1)
    {
        if (kEnd < 0) kEnd = p.Kp;
        int cp = p.Cp, kp = p.Kp;
        long panel = (long)cp * 16;
        for (int pos = 0; pos < p.Positions; pos++)
        {
            float* vp = v + pos * WinogradPlan.PositionStride(blockTiles, cp), up = u + (long)pos * cp * kp, mp = m + pos * WinogradPlan.PositionStride(blockTiles, kp);
            if (width >= 512)
            {
                // Whole 12-row micro-tiles, then the last rows (AVX-512 rows are a multiple of 4) four at a time.
                int whole = rows / 12 * 12;
                int kv = kFirst;
                for (; kv + 32 <= kEnd; kv += 32)
                {
                    float* b = up + kv / 16 * panel;
                    for (int r = 0; r < whole; r += 12) Kernel512x2(cp, vp + (long)r * cp, cp, b, b + panel, mp + (long)r * kp + kv, kp);
                }
                if (kv < kEnd)
                    for (int r = 0; r < whole; r += 12) Kernel512x1(cp, vp + (long)r * cp, cp, up + kv / 16 * panel, mp + (long)r * kp + kv, kp);
                for (int r = whole; r < rows; r += 4)
                {
                    float* a = vp + (long)r * cp, c = mp + (long)r * kp;
                    kv = kFirst;
                    for (; kv + 64 <= kEnd; kv += 64) Kernel512Rows4x4(cp, a, cp, up + kv / 16 * panel, (nint)panel, c + kv, kp);
                    for (; kv + 32 <= kEnd; kv += 32) Kernel512Rows4x2(cp, a, cp, up + kv / 16 * panel, (nint)panel, c + kv, kp);
                    for (; kv < kEnd; kv += 16) Kernel512Rows4x1(cp, a, cp, up + kv / 16 * panel, c + kv, kp);
                }
            }
            else
            {
                for (int kv = kFirst; kv < kEnd; kv += 16)
                    for (int r = 0; r < rows; r += 6) Kernel256(cp, vp + (long)r * cp, cp, up + kv / 16 * panel, mp + (long)r * kp + kv, kp);
            }
        }
    }

    // 12 rows x 32 columns: a: 12 rows of depth values (stride lda); b, b2: (depth, 16) panels of the two column halves;
    // c: 12 x 32 (stride ldc)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x2(int depth, float* a, nint lda, float* b, float* b2, float* c, nint ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        float* a0 = a, a3 = a + 3 * lda, a6 = a + 6 * lda, a9 = a + 9 * lda;
        nint l2 = 2 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b2);
            Vector512<float> x = Vector512.Create(a0[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a0[lda]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a0[l2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[0]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a3[lda]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a3[l2]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[0]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a6[lda]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a6[l2]);
            c80 = Vector512.FusedMultiplyAdd(x, b0, c80); c81 = Vector512.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a9[0]);
            c90 = Vector512.FusedMultiplyAdd(x, b0, c90); c91 = Vector512.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a9[lda]);
            ca0 = Vector512.FusedMultiplyAdd(x, b0, ca0); ca1 = Vector512.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(a9[l2]);
            cb0 = Vector512.FusedMultiplyAdd(x, b0, cb0); cb1 = Vector512.FusedMultiplyAdd(x, b1, cb1);
            a0++; a3++; a6++; a9++;
            b += 16; b2 += 16;
        }
        c00.Store(c); c01.Store(c + 16); c += ldc;
        c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc;
        c30.Store(c); c31.Store(c + 16); c += ldc;
        c40.Store(c); c41.Store(c + 16); c += ldc;
        c50.Store(c); c51.Store(c + 16); c += ldc;
        c60.Store(c); c61.Store(c + 16); c += ldc;
        c70.Store(c); c71.Store(c + 16); c += ldc;
        c80.Store(c); c81.Store(c + 16); c += ldc;
        c90.Store(c); c91.Store(c + 16); c += ldc;
        ca0.Store(c); ca1.Store(c + 16); c += ldc;
        cb0.Store(c); cb1.Store(c + 16);
    }

    // 12 rows x 16 columns (the last block of an odd number of 16-channel blocks); b: a (depth, 16) panel
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x1(int depth, float* a, nint lda, float* b, float* c, nint ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, ca = default, cb = default;
        float* a0 = a, a3 = a + 3 * lda, a6 = a + 6 * lda, a9 = a + 9 * lda;
        nint l2 = 2 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[lda]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[l2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[0]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[lda]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[l2]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[0]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[lda]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[l2]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a9[0]), b0, c9);
            ca = Vector512.FusedMultiplyAdd(Vector512.Create(a9[lda]), b0, ca);
            cb = Vector512.FusedMultiplyAdd(Vector512.Create(a9[l2]), b0, cb);
            a0++; a3++; a6++; a9++;
            b += 16;
        }
        c0.Store(c); c += ldc; c1.Store(c); c += ldc; c2.Store(c); c += ldc; c3.Store(c); c += ldc;
        c4.Store(c); c += ldc; c5.Store(c); c += ldc; c6.Store(c); c += ldc; c7.Store(c); c += ldc;
        c8.Store(c); c += ldc; c9.Store(c); c += ldc; ca.Store(c); c += ldc; cb.Store(c);
    }

    // 4 rows x 64 columns (the rows past whole 12-row micro-tiles; one image's four tiles of an 8x8 plane): a: 4 rows of
    // depth values (stride lda); b: the first of
    // four (depth, 16) panels, panel floats apart; c: 4 x 64 (stride ldc)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512Rows4x4(int depth, float* a, nint lda, float* b, nint panel, float* c, nint ldc)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        float* b1 = b + panel, b2 = b1 + panel, b3 = b2 + panel;
        nint l2 = 2 * lda, l3 = 3 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector512<float> w0 = Vector512.Load(b), w1 = Vector512.Load(b1), w2 = Vector512.Load(b2), w3 = Vector512.Load(b3);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00); c01 = Vector512.FusedMultiplyAdd(x, w1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, w2, c02); c03 = Vector512.FusedMultiplyAdd(x, w3, c03);
            x = Vector512.Create(a[lda]);
            c10 = Vector512.FusedMultiplyAdd(x, w0, c10); c11 = Vector512.FusedMultiplyAdd(x, w1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, w2, c12); c13 = Vector512.FusedMultiplyAdd(x, w3, c13);
            x = Vector512.Create(a[l2]);
            c20 = Vector512.FusedMultiplyAdd(x, w0, c20); c21 = Vector512.FusedMultiplyAdd(x, w1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, w2, c22); c23 = Vector512.FusedMultiplyAdd(x, w3, c23);
            x = Vector512.Create(a[l3]);
            c30 = Vector512.FusedMultiplyAdd(x, w0, c30); c31 = Vector512.FusedMultiplyAdd(x, w1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, w2, c32); c33 = Vector512.FusedMultiplyAdd(x, w3, c33);
            a++;
            b += 16; b1 += 16; b2 += 16; b3 += 16;
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48); c += ldc;
        c10.Store(c); c11.Store(c + 16); c12.Store(c + 32); c13.Store(c + 48); c += ldc;
        c20.Store(c); c21.Store(c + 16); c22.Store(c + 32); c23.Store(c + 48); c += ldc;
        c30.Store(c); c31.Store(c + 16); c32.Store(c + 32); c33.Store(c + 48);
    }

    // 4 rows x 32 columns: b and b + panel, two (depth, 16) panels
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512Rows4x2(int depth, float* a, nint lda, float* b, nint panel, float* c, nint ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* b1 = b + panel;
        nint l2 = 2 * lda, l3 = 3 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector512<float> w0 = Vector512.Load(b), w1 = Vector512.Load(b1);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00); c01 = Vector512.FusedMultiplyAdd(x, w1, c01);
            x = Vector512.Create(a[lda]);
            c10 = Vector512.FusedMultiplyAdd(x, w0, c10); c11 = Vector512.FusedMultiplyAdd(x, w1, c11);
            x = Vector512.Create(a[l2]);
            c20 = Vector512.FusedMultiplyAdd(x, w0, c20); c21 = Vector512.FusedMultiplyAdd(x, w1, c21);
            x = Vector512.Create(a[l3]);
            c30 = Vector512.FusedMultiplyAdd(x, w0, c30); c31 = Vector512.FusedMultiplyAdd(x, w1, c31);
            a++;
            b += 16; b1 += 16;
        }
        c00.Store(c); c01.Store(c + 16); c += ldc;
        c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc;
        c30.Store(c); c31.Store(c + 16);
    }

    // 4 rows x 16 columns (the 16-channel blocks past the last whole 64); b: a (depth, 16) panel
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512Rows4x1(int depth, float* a, nint lda, float* b, float* c, nint ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        nint l2 = 2 * lda, l3 = 3 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector512<float> w = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), w, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[lda]), w, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[l2]), w, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[l3]), w, c3);
            a++;
            b += 16;
        }
        c0.Store(c); c += ldc; c1.Store(c); c += ldc; c2.Store(c); c += ldc; c3.Store(c);
    }

    // AVX2: 6 rows x 16 columns (two 8-float vectors), 12 accumulators of the 16 registers; b: a (depth, 16) panel
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int depth, float* a, nint lda, float* b, float* c, nint ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a3 = a + 3 * lda;
        nint l2 = 2 * lda;
        for (int pc = 0; pc < depth; pc++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a0[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a0[lda]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a0[l2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[0]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a3[lda]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a3[l2]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a0++; a3++;
            b += 16;
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8); c += ldc;
        c40.Store(c); c41.Store(c + 8); c += ldc;
        c50.Store(c); c51.Store(c + 8);
    }
}
