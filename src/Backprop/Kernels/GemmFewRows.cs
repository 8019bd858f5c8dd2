using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// C = A·B^T (+ bias on each row) for A (m, k) with few rows and B (n, k) large, row-major: a fully connected layer at
/// a small batch (LeNet's fc 800->500 at batch 64). <see cref="Gemm.Sgemm"/>'s blocked path packs all of B, the weight
/// (1.6 MB for LeNet's fc1), into column panels on every call, a transposing copy as costly as a third of the product.
/// Here the product is computed turned over, C^T = B·A^T: A^T is packed instead (64 x 800 floats, one 8x8-transpose
/// pass), B's rows are broadcast where they lie, 12 of them against 32 columns of A^T (24 accumulators, as the blocked
/// path's 10 x 32 tile), and each depth block of A^T (256 x 32 floats, 32 KB) stays in L1 while all of B streams past it.
/// The sums are the blocked path's exactly: depth blocks of <see cref="Gemm.Kc"/>, each summed from zero in depth order
/// with one fused multiply-add per step, then acc + C per block, C starting as the bias rows (as Functional.Linear fills
/// them for the blocked path) or as the first block; so results are bit-identical to it and to any thread count
/// (threads take blocks of B's rows).
/// </summary>
internal static unsafe class GemmFewRows
{
    private const int Rows = 12, Cols = 32;
    private const long ThreadWork = 48 * 48 * 48;   // Gemm's: multiply-adds below which a second thread costs more than it saves

    /// <summary>
    /// With AVX-512 (where the blocked path it matches runs its 10 x 32 tile), rows of A a multiple of 32 up to 256,
    /// at least one tile of B's rows, and more work than Sgemm gives its direct small-product loops (whose bits differ).
    /// </summary>
    public static bool Applies(int width, int m, int n, int k) =>
        SimdWidth.Allows512(width) && m % Cols == 0 && m > 0 && m <= 256 && n >= Rows && k >= 1 && (long)m * n * k > SmallWork;

    /// <summary>Where <see cref="RunNN"/> runs: the shapes of <see cref="Applies"/>.</summary>
    public static bool AppliesNN(int width, int m, int n, int k) => Applies(width, m, n, k);

    private const long SmallWork = 24 * 24 * 24;   // Gemm.Sgemm's: at or below it, its unpacked loops run

    /// <summary>c = a·b^T + bias (each row) for a: (m, k), b: (n, k), bias: (n) or empty, c: (m, n) overwritten; all dense.</summary>
    public static void Run(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c)
    {
        if (a.Length < (long)m * k || b.Length < (long)n * k || c.Length < (long)m * n || (bias.Length != 0 && bias.Length != n))
            throw new ArgumentException($"GemmFewRows: operands of {a.Length}, {b.Length}, {bias.Length} and {c.Length} floats do not fit {m}x{n}x{k}.");
        bool hasBias = bias.Length != 0;
        float[] packed = System.Buffers.ArrayPool<float>.Shared.Rent(k * m + 16);
        float[] turned = System.Buffers.ArrayPool<float>.Shared.Rent(n * m + 16);
        try
        {
            fixed (float* pa = a, pb = b, pbias = bias, pc = c, pat = packed, pct = turned)
            {
                float* at = ConvolutionImplicitGemm.Align64(pat), ct = ConvolutionImplicitGemm.Align64(pct);
                Transpose(pa, m, k, at);   // at: (k, m)
                float* biasOrNull = hasBias ? pbias : null;
                nint ia = (nint)at, ib = (nint)pb, ibias = (nint)biasOrNull, ic = (nint)pc, it = (nint)ct;
                int tiles = (n + Rows - 1) / Rows;
                if ((long)m * n * k < ThreadWork || KernelThreads.Count == 1 || KernelThreads.InWorker)
                    Columns(0, n, m, n, k, at, pb, biasOrNull, pc, ct);
                else
                    KernelThreads.For(tiles, (s, e) => Columns(s * Rows, Math.Min(n, e * Rows), m, n, k, (float*)ia, (float*)ib, (float*)ibias, (float*)ic, (float*)it));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(packed);
            System.Buffers.ArrayPool<float>.Shared.Return(turned);
        }
    }

    /// <summary>
    /// c = a·b for a: (m, k), b: (k, n), c: (m, n) overwritten, all dense (a fully connected layer's input gradient, dx = dy·W,
    /// at a small batch): the product turned over as in <see cref="Run"/>, with B^T's rows, that is B's columns, broadcast
    /// where they lie (12 neighbours in one row of B per depth step), so B is neither packed nor transposed. The sums are
    /// the blocked path's: depth blocks of <see cref="Gemm.Kc"/>, each from zero in depth order, then added in block order.
    /// </summary>
    public static void RunNN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"GemmFewRows: operands of {a.Length}, {b.Length} and {c.Length} floats do not fit {m}x{n}x{k}.");
        float[] packed = System.Buffers.ArrayPool<float>.Shared.Rent(k * m + 16);
        float[] turned = System.Buffers.ArrayPool<float>.Shared.Rent(n * m + 16);
        try
        {
            fixed (float* pa = a, pb = b, pc = c, pat = packed, pct = turned)
            {
                float* at = ConvolutionImplicitGemm.Align64(pat), ct = ConvolutionImplicitGemm.Align64(pct);
                Transpose(pa, m, k, at);   // at: (k, m)
                nint ia = (nint)at, ib = (nint)pb, ic = (nint)pc, it = (nint)ct;
                int tiles = (n + Rows - 1) / Rows;
                if ((long)m * n * k < ThreadWork || KernelThreads.Count == 1 || KernelThreads.InWorker)
                    ColumnsNN(0, n, m, n, k, at, pb, pc, ct);
                else
                    KernelThreads.For(tiles, (s, e) => ColumnsNN(s * Rows, Math.Min(n, e * Rows), m, n, k, (float*)ia, (float*)ib, (float*)ic, (float*)it));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(packed);
            System.Buffers.ArrayPool<float>.Shared.Return(turned);
        }
    }

    // C's columns [j0, j1) for c = a·b: C^T rows j0 .. j1 in ct (n, m), then turned into c (m, n). A last tile of fewer than
    // 12 columns reads them from a zero-padded copy (12 floats per depth step), not past the end of b's rows.
    private static void ColumnsNN(int j0, int j1, int m, int n, int k, float* at, float* b, float* c, float* ct)
    {
        float* edge = stackalloc float[Gemm.Kc * Rows];
        for (int pc = 0; pc < k; pc += Gemm.Kc)
        {
            int kc = Math.Min(Gemm.Kc, k - pc);
            for (int j = j0; j < j1; j += Rows)
            {
                int rows = Math.Min(Rows, j1 - j);
                float* bj = b + (long)pc * n + j;
                int ldb = n;
                if (rows < Rows)
                {
                    for (int p = 0; p < kc; p++)
                        for (int r = 0; r < Rows; r++) edge[p * Rows + r] = r < rows ? bj[(long)p * n + r] : 0f;
                    bj = edge;
                    ldb = Rows;
                }
                for (int i0 = 0; i0 < m; i0 += Cols)
                    TileNN(kc, at + (long)pc * m + i0, m, bj, ldb, rows, ct + (long)j * m + i0, m, pc != 0);
            }
        }
        int jj = j0;
        for (; jj + 8 <= j1; jj += 8)
            for (int i = 0; i < m; i += 8) Transpose8x8.Block(ct + (long)jj * m + i, m, c + (long)i * n + jj, n);
        for (; jj < j1; jj++)
            for (int i = 0; i < m; i++) c[(long)i * n + jj] = ct[(long)jj * m + i];
    }

    // ct rows [0, rows) x 32 columns = sum over p < depth of b[p*ldb + r] * at[p, 0..32) (+ ct when add).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileNN(int depth, float* at, int ldat, float* b, int ldb, int rows, float* ct, int ldct, bool add)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < depth; p++, at += ldat, b += ldb)
        {
            Vector512<float> x0 = Vector512.Load(at), x1 = Vector512.Load(at + 16);
            Vector512<float> w;
            w = Vector512.Create(b[0]);
            c00 = Vector512.FusedMultiplyAdd(w, x0, c00); c01 = Vector512.FusedMultiplyAdd(w, x1, c01);
            w = Vector512.Create(b[1]);
            c10 = Vector512.FusedMultiplyAdd(w, x0, c10); c11 = Vector512.FusedMultiplyAdd(w, x1, c11);
            w = Vector512.Create(b[2]);
            c20 = Vector512.FusedMultiplyAdd(w, x0, c20); c21 = Vector512.FusedMultiplyAdd(w, x1, c21);
            w = Vector512.Create(b[3]);
            c30 = Vector512.FusedMultiplyAdd(w, x0, c30); c31 = Vector512.FusedMultiplyAdd(w, x1, c31);
            w = Vector512.Create(b[4]);
            c40 = Vector512.FusedMultiplyAdd(w, x0, c40); c41 = Vector512.FusedMultiplyAdd(w, x1, c41);
            w = Vector512.Create(b[5]);
            c50 = Vector512.FusedMultiplyAdd(w, x0, c50); c51 = Vector512.FusedMultiplyAdd(w, x1, c51);
            w = Vector512.Create(b[6]);
            c60 = Vector512.FusedMultiplyAdd(w, x0, c60); c61 = Vector512.FusedMultiplyAdd(w, x1, c61);
            w = Vector512.Create(b[7]);
            c70 = Vector512.FusedMultiplyAdd(w, x0, c70); c71 = Vector512.FusedMultiplyAdd(w, x1, c71);
            w = Vector512.Create(b[8]);
            c80 = Vector512.FusedMultiplyAdd(w, x0, c80); c81 = Vector512.FusedMultiplyAdd(w, x1, c81);
            w = Vector512.Create(b[9]);
            c90 = Vector512.FusedMultiplyAdd(w, x0, c90); c91 = Vector512.FusedMultiplyAdd(w, x1, c91);
            w = Vector512.Create(b[10]);
            ca0 = Vector512.FusedMultiplyAdd(w, x0, ca0); ca1 = Vector512.FusedMultiplyAdd(w, x1, ca1);
            w = Vector512.Create(b[11]);
            cb0 = Vector512.FusedMultiplyAdd(w, x0, cb0); cb1 = Vector512.FusedMultiplyAdd(w, x1, cb1);
        }
        Store(ct, add, c00, c01);
        if (rows > 1) Store(ct + 1L * ldct, add, c10, c11);
        if (rows > 2) Store(ct + 2L * ldct, add, c20, c21);
        if (rows > 3) Store(ct + 3L * ldct, add, c30, c31);
        if (rows > 4) Store(ct + 4L * ldct, add, c40, c41);
        if (rows > 5) Store(ct + 5L * ldct, add, c50, c51);
        if (rows > 6) Store(ct + 6L * ldct, add, c60, c61);
        if (rows > 7) Store(ct + 7L * ldct, add, c70, c71);
        if (rows > 8) Store(ct + 8L * ldct, add, c80, c81);
        if (rows > 9) Store(ct + 9L * ldct, add, c90, c91);
        if (rows > 10) Store(ct + 10L * ldct, add, ca0, ca1);
        if (rows > 11) Store(ct + 11L * ldct, add, cb0, cb1);
    }

    // dst (cols, rows) = src (rows, cols)^T; rows a multiple of 8.
    private static void Transpose(float* src, int rows, int cols, float* dst)
    {
        for (int i = 0; i < rows; i += 8)
        {
            int j = 0;
            for (; j + 8 <= cols; j += 8) Transpose8x8.Block(src + (long)i * cols + j, cols, dst + (long)j * rows + i, rows);
            for (; j < cols; j++)
                for (int r = i; r < i + 8; r++) dst[(long)j * rows + r] = src[(long)r * cols + j];
        }
    }

    // C's columns [j0, j1): C^T rows j0 .. j1 in ct (n, m), then turned into c (m, n).
    private static void Columns(int j0, int j1, int m, int n, int k, float* at, float* b, float* bias, float* c, float* ct)
    {
        if (bias != null)   // C^T's row j starts as bias[j]
            for (int j = j0; j < j1; j++) new Span<float>(ct + (long)j * m, m).Fill(bias[j]);
        for (int pc = 0; pc < k; pc += Gemm.Kc)
        {
            int kc = Math.Min(Gemm.Kc, k - pc);
            bool add = pc != 0 || bias != null;
            for (int i0 = 0; i0 < m; i0 += Cols)
                for (int j = j0; j < j1; j += Rows)
                    Tile(kc, at + (long)pc * m + i0, m, b + (long)j * k + pc, k, Math.Min(Rows, j1 - j), ct + (long)j * m + i0, m, add);
        }
        int jj = j0;
        for (; jj + 8 <= j1; jj += 8)
            for (int i = 0; i < m; i += 8) Transpose8x8.Block(ct + (long)jj * m + i, m, c + (long)i * n + jj, n);
        for (; jj < j1; jj++)
            for (int i = 0; i < m; i++) c[(long)i * n + jj] = ct[(long)jj * m + i];
    }

    // ct rows [0, rows) x 32 columns = sum over p < depth of b[r, p] * at[p, 0..32) (+ ct when add); b rows past `rows`
    // repeat the last one and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int depth, float* at, int ldat, float* b, int ldb, int rows, float* ct, int ldct, bool add)
    {
        float* b0 = b, b1 = Row(b, ldb, 1, rows), b2 = Row(b, ldb, 2, rows), b3 = Row(b, ldb, 3, rows), b4 = Row(b, ldb, 4, rows), b5 = Row(b, ldb, 5, rows);
        float* b6 = Row(b, ldb, 6, rows), b7 = Row(b, ldb, 7, rows), b8 = Row(b, ldb, 8, rows), b9 = Row(b, ldb, 9, rows), b10 = Row(b, ldb, 10, rows), b11 = Row(b, ldb, 11, rows);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> x0 = Vector512.Load(at), x1 = Vector512.Load(at + 16);
            Vector512<float> w = Vector512.Create(b0[p]);
            c00 = Vector512.FusedMultiplyAdd(w, x0, c00); c01 = Vector512.FusedMultiplyAdd(w, x1, c01);
            w = Vector512.Create(b1[p]);
            c10 = Vector512.FusedMultiplyAdd(w, x0, c10); c11 = Vector512.FusedMultiplyAdd(w, x1, c11);
            w = Vector512.Create(b2[p]);
            c20 = Vector512.FusedMultiplyAdd(w, x0, c20); c21 = Vector512.FusedMultiplyAdd(w, x1, c21);
            w = Vector512.Create(b3[p]);
            c30 = Vector512.FusedMultiplyAdd(w, x0, c30); c31 = Vector512.FusedMultiplyAdd(w, x1, c31);
            w = Vector512.Create(b4[p]);
            c40 = Vector512.FusedMultiplyAdd(w, x0, c40); c41 = Vector512.FusedMultiplyAdd(w, x1, c41);
            w = Vector512.Create(b5[p]);
            c50 = Vector512.FusedMultiplyAdd(w, x0, c50); c51 = Vector512.FusedMultiplyAdd(w, x1, c51);
            w = Vector512.Create(b6[p]);
            c60 = Vector512.FusedMultiplyAdd(w, x0, c60); c61 = Vector512.FusedMultiplyAdd(w, x1, c61);
            w = Vector512.Create(b7[p]);
            c70 = Vector512.FusedMultiplyAdd(w, x0, c70); c71 = Vector512.FusedMultiplyAdd(w, x1, c71);
            w = Vector512.Create(b8[p]);
            c80 = Vector512.FusedMultiplyAdd(w, x0, c80); c81 = Vector512.FusedMultiplyAdd(w, x1, c81);
            w = Vector512.Create(b9[p]);
            c90 = Vector512.FusedMultiplyAdd(w, x0, c90); c91 = Vector512.FusedMultiplyAdd(w, x1, c91);
            w = Vector512.Create(b10[p]);
            ca0 = Vector512.FusedMultiplyAdd(w, x0, ca0); ca1 = Vector512.FusedMultiplyAdd(w, x1, ca1);
            w = Vector512.Create(b11[p]);
            cb0 = Vector512.FusedMultiplyAdd(w, x0, cb0); cb1 = Vector512.FusedMultiplyAdd(w, x1, cb1);
            at += ldat;
        }
        Store(ct, add, c00, c01);
        if (rows > 1) Store(ct + ldct, add, c10, c11);
        if (rows > 2) Store(ct + 2L * ldct, add, c20, c21);
        if (rows > 3) Store(ct + 3L * ldct, add, c30, c31);
        if (rows > 4) Store(ct + 4L * ldct, add, c40, c41);
        if (rows > 5) Store(ct + 5L * ldct, add, c50, c51);
        if (rows > 6) Store(ct + 6L * ldct, add, c60, c61);
        if (rows > 7) Store(ct + 7L * ldct, add, c70, c71);
        if (rows > 8) Store(ct + 8L * ldct, add, c80, c81);
        if (rows > 9) Store(ct + 9L * ldct, add, c90, c91);
        if (rows > 10) Store(ct + 10L * ldct, add, ca0, ca1);
        if (rows > 11) Store(ct + 11L * ldct, add, cb0, cb1);
    }

    private static float* Row(float* b, int ldb, int r, int rows) => b + (long)Math.Min(r, rows - 1) * ldb;

    // The blocked path's store at alpha 1: acc, or acc + C (beta 1, and every depth block after the first).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool add, Vector512<float> lo, Vector512<float> hi)
    {
        if (add)
        {
            lo += Vector512.Load(c);
            hi += Vector512.Load(c + 16);
        }
        lo.Store(c);
        hi.Store(c + 16);
    }
}
