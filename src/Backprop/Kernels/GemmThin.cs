using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Products with many rows and few columns and little depth (op(B) is k x n with 16 &lt; n &lt;= 32 and k within one depth
/// block, such as LeNet's conv1 as 36864x20x25), at 512 bits. The blocked path spends more on packing A and on its
/// scalar edge stores (a 32-wide tile never fits 20 columns) than on the arithmetic here; this one reads A where
/// it lies, packs op(B) once into k rows of 32 (zero padded), and stores each row of C as one full and one masked
/// vector. The arithmetic is the blocked path's (one fused multiply-add per depth step into an accumulator that
/// starts at zero, then alpha * acc + beta * C), so the results are bit-identical to it and to any thread count.
/// </summary>
internal static unsafe class GemmThin
{
    /// <summary>Rows of C per register tile: 24 accumulators of the 32 registers.</summary>
    private const int Rows = 12;

    [ThreadStatic] private static float[]? t_packB;

    /// <summary>True when this path runs the product at <paramref name="width"/> bits.</summary>
    public static bool Applies(int width, int m, int n, int k) =>
        SimdWidth.AllowsAvx512F(width) && n > 16 && n <= 32 && k <= Gemm.Kc && m >= Rows;

    /// <summary>C = alpha * op(A) * op(B) + beta * C for the shapes <see cref="Applies"/> accepts.</summary>
    // a: (m, k) with row stride lda, or (k, m) when transA; b: (k, n) with row stride ldb, or (n, k) when transB; c: (m, n) with row stride ldc
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool threaded)
    {
        float[] buffer = t_packB ??= GC.AllocateUninitializedArray<float>(Gemm.Kc * 32 + 16, pinned: true);
        fixed (float* baseB = buffer)
        {
            float* packB = (float*)(((nint)baseB + 63) & ~(nint)63);
            GemmPacking.PackB(transB, b, ldb, 0, k, 0, n, 32, packB);
            // Element (i, p) of op(A) is at a[i * rowStep + p * depthStep].
            nint rowStep = transA ? 1 : lda, depthStep = transA ? lda : 1;
            var mask = Vector512.LessThan(Vector512.Create(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31), Vector512.Create(n)).AsSingle();
            int tiles = (m + Rows - 1) / Rows;
            nint ia = (nint)a, ib = (nint)packB, ic = (nint)c;
            if (!threaded)
            {
                Tiles(0, tiles, m, k, (float*)ia, rowStep, depthStep, (float*)ib, (float*)ic, ldc, mask, alpha, beta);
            }
            else
            {
                KernelThreads.For(tiles, (s, e) => Tiles(s, e, m, k, (float*)ia, rowStep, depthStep, (float*)ib, (float*)ic, ldc, mask, alpha, beta));
            }
        }
    }

    // Row tiles [t0, t1) of C; the last one may be short.
    private static void Tiles(int t0, int t1, int m, int k, float* a, nint rowStep, nint depthStep, float* b, float* c, int ldc,
        Vector512<float> mask, float alpha, float beta)
    {
        for (int t = t0; t < t1; t++)
        {
            int i0 = t * Rows;
            if (i0 + Rows <= m)
            {
                Tile12(k, a + i0 * rowStep, rowStep, depthStep, b, c + (long)i0 * ldc, ldc, mask, alpha, beta);
                continue;
            }
            for (int i = i0; i < m; i++) Row(k, a + i * rowStep, depthStep, b, c + (long)i * ldc, mask, alpha, beta);
        }
    }

    // a: element (r, p) at a[r * rs + p * ps]; b: (depth, 32) packed; c: (12, n) with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (GemmMicroKernels' class comment)
    private static void Tile12(int depth, float* a, nint rs, nint ps, float* b, float* c, int ldc, Vector512<float> mask, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        // Three row groups of four: rows at g[0], g[rs], g[2rs], g[3rs] (few registers for twelve row addresses).
        float* g0 = a, g4 = a + 4 * rs, g8 = a + 8 * rs;
        nint rs2 = 2 * rs, rs3 = 3 * rs;
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> av = Vector512.Create(g0[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(g0[rs]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(g0[rs2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(g0[rs3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(g4[0]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(g4[rs]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(g4[rs2]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(g4[rs3]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(g8[0]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(g8[rs]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(g8[rs2]);
            ca0 = Vector512.FusedMultiplyAdd(av, b0, ca0); ca1 = Vector512.FusedMultiplyAdd(av, b1, ca1);
            av = Vector512.Create(g8[rs3]);
            cb0 = Vector512.FusedMultiplyAdd(av, b0, cb0); cb1 = Vector512.FusedMultiplyAdd(av, b1, cb1);
            g0 += ps; g4 += ps; g8 += ps;
            b += 32;
        }
        StoreRow(c, c00, c01, mask, alpha, beta); c += ldc;
        StoreRow(c, c10, c11, mask, alpha, beta); c += ldc;
        StoreRow(c, c20, c21, mask, alpha, beta); c += ldc;
        StoreRow(c, c30, c31, mask, alpha, beta); c += ldc;
        StoreRow(c, c40, c41, mask, alpha, beta); c += ldc;
        StoreRow(c, c50, c51, mask, alpha, beta); c += ldc;
        StoreRow(c, c60, c61, mask, alpha, beta); c += ldc;
        StoreRow(c, c70, c71, mask, alpha, beta); c += ldc;
        StoreRow(c, c80, c81, mask, alpha, beta); c += ldc;
        StoreRow(c, c90, c91, mask, alpha, beta); c += ldc;
        StoreRow(c, ca0, ca1, mask, alpha, beta); c += ldc;
        StoreRow(c, cb0, cb1, mask, alpha, beta);
    }

    // One row of C (the rows past the last full tile): a: element p at a[p * ps]; b: (depth, 32) packed.
    private static void Row(int depth, float* a, nint ps, float* b, float* c, Vector512<float> mask, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default;
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> av = Vector512.Create(a[p * ps]);
            c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 16), c1);
            b += 32;
        }
        StoreRow(c, c0, c1, mask, alpha, beta);
    }

    // c[0..16) from lo, c[16..n) from hi's lanes that the mask keeps; nothing past column n is read or written.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> mask, float alpha, float beta)
    {
        GemmMicroKernels.Store512(c, lo, alpha, beta);
        Vector512<float> v = hi * alpha;
        if (beta != 0f) v += Avx512F.MaskLoad(c + 16, mask, Vector512<float>.Zero) * beta;
        Avx512F.MaskStore(c + 16, mask, v);
    }
}
