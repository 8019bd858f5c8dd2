using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Products whose depth fits one block and whose op(B) is small and untransposed (256³; a fully connected layer's weight
/// gradient dW = dyᵀ·x at batch 64, 500x800x64 TN), at 512 bits. The blocked path packs all of A and B before its first
/// multiply-add: at 256³ about 128K floats copied for 16.7M multiply-adds, and the weight gradient's transposed A by a
/// scalar loop. Here nothing is packed but the edges: the 10 x 32 tile broadcasts A where it lies (through its row and
/// depth steps, so A transposed or not) and loads B's rows where they lie (B, a few hundred KB at most, stays in L2 as
/// the packed block would); only a last partial column panel of B and a last partial row band of A are packed, zero
/// padded. The arithmetic is the blocked path's (one fused multiply-add per depth step into an accumulator that starts
/// at zero, then alpha * acc + beta * C), so results are bit-identical to it and to any thread count.
/// </summary>
internal static unsafe class GemmDirect
{
    private const int Mr = GemmMicroKernels.TallMr, Nr = 32;

    /// <summary>
    /// Largest op(B), in floats, read in place (half of a 1 MB L2: 256³'s B). Up to it, 1000-4000 rows ran 2-4% faster than
    /// the blocked path; at 192K floats, 1000x1024x160 ran 14% slower (B's strided rows no longer held in L2).
    /// </summary>
    private const long MaxB = 128 * 1024;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>True when this path runs the product at <paramref name="width"/> bits.</summary>
    public static bool Applies(int width, bool transB, int m, int n, int k) =>
        SimdWidth.AllowsAvx512F(width) && !transB && k <= Gemm.Kc && (long)k * n <= MaxB && m >= Mr && n >= Nr;

    /// <summary>C = alpha * op(A) * B + beta * C for the shapes <see cref="Applies"/> accepts.</summary>
    // a: (m, k) with row stride lda, or (k, m) when transA; b: (k, n) with row stride ldb; c: (m, n) with row stride ldc
    public static void Run(bool transA, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, bool threaded)
    {
        int fullCols = n / Nr * Nr;
        float[] buffer = t_packB ??= GC.AllocateUninitializedArray<float>(Gemm.Kc * Nr + 16, pinned: true);
        fixed (float* baseB = buffer)
        {
            // The last, partial column panel: packed once (zero padded), read with row stride Nr.
            float* edgeB = (float*)(((nint)baseB + 63) & ~(nint)63);
            if (fullCols < n) GemmPacking.PackB(false, b, ldb, 0, k, fullCols, n - fullCols, Nr, edgeB);
            // Element (i, p) of op(A) is at a[i * rowStep + p * depthStep].
            nint rowStep = transA ? 1 : lda, depthStep = transA ? lda : 1;
            nint ia = (nint)a, ib = (nint)b, ie = (nint)edgeB, ic = (nint)c;
            int bands = (m + Mr - 1) / Mr, panels = (n + Nr - 1) / Nr;
            if (!threaded)
                Tiles(transA, 0, bands, 0, panels, m, n, k, alpha, a, lda, rowStep, depthStep, b, ldb, edgeB, beta, c, ldc);
            else if (n >= m)
                KernelThreads.For(panels, (s, e) => Tiles(transA, 0, bands, s, e, m, n, k, alpha, (float*)ia, lda, rowStep, depthStep,
                    (float*)ib, ldb, (float*)ie, beta, (float*)ic, ldc));
            else
                KernelThreads.For(bands, (s, e) => Tiles(transA, s, e, 0, panels, m, n, k, alpha, (float*)ia, lda, rowStep, depthStep,
                    (float*)ib, ldb, (float*)ie, beta, (float*)ic, ldc));
        }
    }

    // Row bands [r0, r1) and column panels [s0, s1) of C; a band's A stays in L1 while the panels' B comes from L2.
    private static void Tiles(bool transA, int r0, int r1, int s0, int s1, int m, int n, int k, float alpha,
        float* a, int lda, nint rowStep, nint depthStep, float* b, int ldb, float* edgeB, float beta, float* c, int ldc)
    {
        if (r0 >= r1 || s0 >= s1) return;
        float[] buffer = t_packA ??= GC.AllocateUninitializedArray<float>(Gemm.Kc * Mr + 16, pinned: true);
        fixed (float* baseA = buffer)
        {
            float* edgeA = (float*)(((nint)baseA + 63) & ~(nint)63);
            for (int r = r0; r < r1; r++)
            {
                int i0 = r * Mr, rows = Math.Min(Mr, m - i0);
                float* band = a + i0 * rowStep;
                nint rs = rowStep, ps = depthStep;
                if (rows < Mr)
                {
                    // The last, partial band: its rows packed (zero padded) so that the tile reads nothing past A.
                    GemmPacking.PackA(transA, a, lda, i0, rows, 0, k, Mr, edgeA);
                    band = edgeA;
                    rs = 1;
                    ps = Mr;
                }
                float* crow = c + (long)i0 * ldc;
                for (int s = s0; s < s1; s++)
                {
                    int j0 = s * Nr, cols = Math.Min(Nr, n - j0);
                    if (cols == Nr)
                        Kernel(k, band, rs, ps, b + j0, ldb, crow + j0, ldc, rows, cols, alpha, beta);
                    else
                        Kernel(k, band, rs, ps, edgeB, Nr, crow + j0, ldc, rows, cols, alpha, beta);
                }
            }
        }
    }

    // a: element (r, p) at a[r * rs + p * ps]; b: (depth, 32) with row stride ldb; c: (rows, cols) tile with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (GemmMicroKernels' class comment)
    private static void Kernel(int depth, float* a, nint rs, nint ps, float* b, nint ldb, float* c, int ldc, int rows, int cols,
        float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default;
        GemmMicroKernels.PrefetchTile(c, ldc, rows);
        // Rows at g0 + {0, rs, 2rs, 3rs, 4rs}, g5 + {0, rs, 2rs, 3rs, 4rs} (few registers for ten row addresses).
        float* g0 = a, g5 = a + 5 * rs;
        nint rs2 = 2 * rs, rs3 = 3 * rs, rs4 = 4 * rs;
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
            av = Vector512.Create(g0[rs4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(g5[0]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(g5[rs]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(g5[rs2]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(g5[rs3]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(g5[rs4]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            g0 += ps; g5 += ps;
            b += ldb;
        }
        if (rows == Mr && cols == Nr)
        {
            GemmMicroKernels.Store512(c, c00, alpha, beta); GemmMicroKernels.Store512(c + 16, c01, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c10, alpha, beta); GemmMicroKernels.Store512(c + 16, c11, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c20, alpha, beta); GemmMicroKernels.Store512(c + 16, c21, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c30, alpha, beta); GemmMicroKernels.Store512(c + 16, c31, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c40, alpha, beta); GemmMicroKernels.Store512(c + 16, c41, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c50, alpha, beta); GemmMicroKernels.Store512(c + 16, c51, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c60, alpha, beta); GemmMicroKernels.Store512(c + 16, c61, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c70, alpha, beta); GemmMicroKernels.Store512(c + 16, c71, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c80, alpha, beta); GemmMicroKernels.Store512(c + 16, c81, alpha, beta); c += ldc;
            GemmMicroKernels.Store512(c, c90, alpha, beta); GemmMicroKernels.Store512(c + 16, c91, alpha, beta);
            return;
        }
        GemmMicroKernels.Edge512x10(c, ldc, rows, cols, alpha, beta,
            c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91);
    }
}
