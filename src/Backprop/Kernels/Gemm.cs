using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Single-precision matrix product, row-major: C = alpha * op(A) * op(B) + beta * C.
/// Cache-blocked (KC x MC panels of A, KC x NC panels of B, packed; the packing does any
/// transposition) with a register-tiled SIMD micro-kernel of the width <see cref="SimdWidth.Max"/>
/// allows: the packed B block (1 MB) stays in L2, one A micro-panel in L1 against it, and each
/// micro-kernel prefetches its C tile before its depth loop. Threaded over column (or row) panels with a fixed partition; the depth blocking does not
/// depend on the thread count, so every element of C is computed by the same operations for any
/// <see cref="KernelThreads.Count"/>: results are bit-identical. See <see cref="GemmReference"/>.
/// </summary>
public static unsafe class Gemm
{
    internal const int Kc = 256;
    internal const int Mc = 144;   // rows of an A block for the 6- and 4-row tiles: a multiple of both
    internal const int TallMc = 240;   // rows of an A block for the 10-row tile (its multiple nearest to 256 KB of packed A)
    internal const int Nc = 1024;  // multiple of 32, 16, 8, 4
    private const long SmallWork = 24 * 24 * 24;
    private const long ThreadWork = 48 * 48 * 48;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packWholeA;
    // Columns of a B block where all of A's rows are packed at once: with A no longer packed again for each B block, a
    // block half of L2 (512 KB) instead of all of it (2048^3 about 3% faster than 1024 columns, 256 no better).
    private const int WholeNc = 512;
    private const long WholeAMax = 2560L * Kc;   // floats of a depth block of all of A's rows packed at once (2.5 MB)
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>
    /// Row-major C[m x n] = alpha * op(A) * op(B) + beta * C. op(A) is m x k (A is stored k x m when
    /// transA), op(B) is k x n (B is stored n x k when transB). beta == 0 overwrites C: NaNs already in
    /// C are ignored. NaNs and infinities in A and B propagate as in the plain triple loop.
    /// </summary>
    // a: (m, k) with row stride lda, or (k, m) when transA
    // b: (k, n) with row stride ldb, or (n, k) when transB
    // c: (m, n) with row stride ldc
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        // One row of A (a fully connected layer at batch 1): the product is a matrix-vector one that reads B once,
        // so packing B for a single row costs more than the product (LeNet's fc1 at batch 1: about 4x).
        if (m == 1 && !transA && transB && GemvRows.Applies(SimdWidth.Max, k))
        {
            fixed (float* pa = a, pb = b, pc = c) GemvRows.Run(n, k, alpha, pa, pb, ldb, beta, pc);
            return;
        }
        if ((long)m * n * k <= SmallWork || (m == 1 && !transA))
        {
            SgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        int width = SimdWidth.Max;
        // At 512 bits the 10-row tile: 10 broadcasts and 2 loads per 20 multiply-adds (the 6-row one: 8 per 12).
        (int mr, int nr) = width == 512 ? (GemmMicroKernels.TallMr, 32) : GemmMicroKernels.TileFor(width);
        fixed (float* pa = a, pb = b, pc = c)
        {
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
            bool threaded = KernelThreads.Count > 1 && !KernelThreads.InWorker && (long)m * n * k >= ThreadWork;
            if (GemmThin.Applies(width, m, n, k))
            {
                GemmThin.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, threaded);
            }
            else if (GemmDirect.Applies(width, transB, m, n, k))
            {
                GemmDirect.Run(transA, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, threaded);
            }
            else if (!threaded)
            {
                Blocked(width, mr, nr, transA, transB, 0, m, 0, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            }
            else if (n >= m)
            {
                int panels = (n + nr - 1) / nr;
                KernelThreads.For(panels, (s, e) => Blocked(width, mr, nr, transA, transB, 0, m, s * nr, Math.Min(n, e * nr), k,
                    alpha, (float*)ia, lda, (float*)ib, ldb, beta, (float*)ic, ldc));
            }
            else
            {
                int panels = (m + mr - 1) / mr;
                KernelThreads.For(panels, (s, e) => Blocked(width, mr, nr, transA, transB, s * mr, Math.Min(m, e * mr), 0, n, k,
                    alpha, (float*)ia, lda, (float*)ib, ldb, beta, (float*)ic, ldc));
            }
        }
    }

    /// <summary>Computes rows [i0, i1) and columns [j0, j1) of C on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked(int width, int mr, int nr, bool transA, bool transB, int i0, int i1, int j0, int j1, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (i0 >= i1 || j0 >= j1) return;
        if (j1 - j0 > WholeNc && (long)((i1 - i0 + mr - 1) / mr * mr) * Kc <= WholeAMax)
        {
            BlockedWholeA(width, mr, nr, transA, transB, i0, i1, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        int packALength = TallMc * Kc;
        int mcBlock = mr == GemmMicroKernels.TallMr ? TallMc : Mc;
        int packBLength = Kc * Nc;
        float[] bufA = t_packA ??= GC.AllocateUninitializedArray<float>(packALength + 16, pinned: true);
        float[] bufB = t_packB ??= GC.AllocateUninitializedArray<float>(packBLength + 16, pinned: true);
        fixed (float* baseA = bufA, baseB = bufB)
        {
            float* packA = Align64(baseA);
            float* packB = Align64(baseB);
            for (int jc = j0; jc < j1; jc += Nc)
            {
                int nc = Math.Min(Nc, j1 - jc);
                for (int pc = 0; pc < k; pc += Kc)
                {
                    int kc = Math.Min(Kc, k - pc);
                    float betaBlock = pc == 0 ? beta : 1f;
                    GemmPacking.PackB(transB, b, ldb, pc, kc, jc, nc, nr, packB);
                    for (int ic = i0; ic < i1; ic += mcBlock)
                    {
                        int mc = Math.Min(mcBlock, i1 - ic);
                        GemmPacking.PackA(transA, a, lda, ic, mc, pc, kc, mr, packA);
                        // One A micro-panel (kc x mr, 10 KB at most) stays in L1 while the B micro-panels stream
                        // from L2, where the whole packed B block (kc x nc, 1 MB) sits; each row band of C is then
                        // written left to right. The other order (a B micro-panel held in L1 against A panels from L2)
                        // ran 2048^3 about 7% slower: the 32 KB B panel filled most of the 48 KB L1.
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* panelA = packA + (long)ir * kc;
                            float* band = c + (long)(ic + ir) * ldc + jc;
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int cols = Math.Min(nr, nc - jr);
                                float* panelB = packB + (long)jr * kc;
                                if (mr == GemmMicroKernels.TallMr)
                                    GemmMicroKernels.Kernel512x10StreamB(kc, panelA, panelB, band + jr, ldc, rows, cols, alpha, betaBlock);
                                else
                                    GemmMicroKernels.Run(width, kc, panelA, panelB, band + jr, ldc, rows, cols, alpha, betaBlock);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Blocked"/> for more than <see cref="WholeNc"/> columns: each depth block of all the rows of A is packed
    /// once (into a buffer of up to 2.5 MB) and used against every B block of <see cref="WholeNc"/> columns, where the usual
    /// order packs it again for each B block (2048^3: A packed twice, about 3% of the time) and so needs B blocks as wide as
    /// L2 holds. The same micro-kernel calls with the same depth blocks in the same order for every tile of C, so the bits
    /// are those of the usual order (and so do not depend on which of the two a thread's share of the columns takes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockedWholeA(int width, int mr, int nr, bool transA, bool transB, int i0, int i1, int j0, int j1, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        int rows = i1 - i0;
        int packALength = (rows + mr - 1) / mr * mr * Kc;
        float[]? bufA = t_packWholeA;
        if (bufA is null || bufA.Length < packALength + 16)
            t_packWholeA = bufA = GC.AllocateUninitializedArray<float>(packALength + 16, pinned: true);
        float[] bufB = t_packB ??= GC.AllocateUninitializedArray<float>(Kc * Nc + 16, pinned: true);
        fixed (float* baseA = bufA, baseB = bufB)
        {
            float* packA = Align64(baseA);
            float* packB = Align64(baseB);
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                float betaBlock = pc == 0 ? beta : 1f;
                GemmPacking.PackA(transA, a, lda, i0, rows, pc, kc, mr, packA);
                for (int jc = j0; jc < j1; jc += WholeNc)
                {
                    int nc = Math.Min(WholeNc, j1 - jc);
                    GemmPacking.PackB(transB, b, ldb, pc, kc, jc, nc, nr, packB);
                    for (int ir = 0; ir < rows; ir += mr)
                    {
                        int tileRows = Math.Min(mr, rows - ir);
                        float* panelA = packA + (long)ir * kc;
                        float* band = c + (long)(i0 + ir) * ldc + jc;
                        // The next A micro-panel (mr x kc floats, from L3: the packed block is up to 2.5 MB) into L2 a few
                        // lines a tile, so that its first tile does not wait for it.
                        float* nextA = panelA + (long)mr * kc, nextEnd = packA + (long)(rows + mr - 1) / mr * mr * kc;
                        int linesPerTile = (mr * kc / 16 + nc / nr - 1) / Math.Max(1, nc / nr);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            float* panelB = packB + (long)jr * kc;
                            if (Sse.IsSupported)
                                for (int t = 0; t < linesPerTile && nextA < nextEnd; t++, nextA += 16) Sse.Prefetch1(nextA);
                            if (mr == GemmMicroKernels.TallMr)
                                GemmMicroKernels.Kernel512x10StreamB(kc, panelA, panelB, band + jr, ldc, tileRows, cols, alpha, betaBlock);
                            else
                                GemmMicroKernels.Run(width, kc, panelA, panelB, band + jr, ldc, tileRows, cols, alpha, betaBlock);
                        }
                    }
                }
            }
        }
    }

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>Direct loops for small products, where packing would cost more than it saves.</summary>
    private static void SgemmSmall(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> crow = c.Slice(i * ldc, n);
            if (!transB)
            {
                if (beta == 0f) crow.Clear();
                else if (beta != 1f) TensorPrimitives.Multiply(crow, beta, crow);
                for (int p = 0; p < k; p++)
                {
                    float av = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                    TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), av, crow, crow);
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    ReadOnlySpan<float> brow = b.Slice(j * ldb, k);
                    float sum = 0f;
                    if (!transA)
                    {
                        sum = TensorPrimitives.Dot(a.Slice(i * lda, k), brow);
                    }
                    else
                    {
                        for (int p = 0; p < k; p++) sum += a[p * lda + i] * brow[p];
                    }
                    crow[j] = beta == 0f ? alpha * sum : alpha * sum + beta * crow[j];
                }
            }
        }
    }

    // c: (m, n) with row stride ldc
    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Sgemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        CheckMatrix("a", transA ? "k x m" : "m x k", aRows, aCols, lda, aLength, nameof(lda));
        CheckMatrix("b", transB ? "n x k" : "k x n", bRows, bCols, ldb, bLength, nameof(ldb));
        CheckMatrix("c", "m x n", m, n, ldc, cLength, nameof(ldc));
    }

    private static void CheckMatrix(string name, string shape, int rows, int cols, int ld, int length, string ldName)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"Sgemm: {ldName}={ld} is less than the {cols} columns of {name} ({shape}).");
        if (rows == 0 || cols == 0) return;
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"Sgemm: {name} ({shape} = {rows} x {cols}, {ldName}={ld}) needs {need} elements but has {length}.");
    }
}
