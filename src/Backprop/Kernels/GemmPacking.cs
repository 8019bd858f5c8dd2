namespace Backprop.Kernels;

/// <summary>
/// Packs blocks of op(A) and op(B) into the contiguous micro-panels the GEMM micro-kernels read.
/// The packing does the transposition, so no transposed matrix is ever materialised; rows or
/// columns past the edge of the matrix are filled with zeros.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[i0 .. i0+rows, p0 .. p0+depth] into panels of mr rows: panel r holds, for each p,
    /// the mr values of rows r*mr .. r*mr+mr-1 (dst[r*mr*depth + p*mr + ii]).
    /// </summary>
    // a: (m, k) with row stride lda, or (k, m) when transA; dst: (ceil(rows/mr), depth, mr)
    public static void PackA(bool transA, float* a, int lda, int i0, int rows, int p0, int depth, int mr, float* dst)
    {
        for (int r = 0; r < rows; r += mr)
        {
            int live = Math.Min(mr, rows - r);
            float* panel = dst + (long)r * depth;
            if (!transA)
            {
                for (int ii = 0; ii < live; ii++)
                {
                    float* src = a + (long)(i0 + r + ii) * lda + p0;
                    for (int p = 0; p < depth; p++) panel[p * mr + ii] = src[p];
                }
                for (int ii = live; ii < mr; ii++)
                    for (int p = 0; p < depth; p++) panel[p * mr + ii] = 0f;
            }
            else
            {
                for (int p = 0; p < depth; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + r;
                    float* d = panel + p * mr;
                    int ii = 0;
                    for (; ii < live; ii++) d[ii] = src[ii];
                    for (; ii < mr; ii++) d[ii] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+depth, j0 .. j0+cols] into panels of nr columns: panel s holds, for each p,
    /// the nr values of columns s*nr .. s*nr+nr-1 (dst[s*nr*depth + p*nr + jj]).
    /// </summary>
    // b: (k, n) with row stride ldb, or (n, k) when transB; dst: (ceil(cols/nr), depth, nr)
    public static void PackB(bool transB, float* b, int ldb, int p0, int depth, int j0, int cols, int nr, float* dst)
    {
        for (int s = 0; s < cols; s += nr)
        {
            int live = Math.Min(nr, cols - s);
            float* panel = dst + (long)s * depth;
            if (!transB)
            {
                for (int p = 0; p < depth; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + s;
                    float* d = panel + p * nr;
                    if (live == nr)
                    {
                        Buffer.MemoryCopy(src, d, nr * sizeof(float), nr * sizeof(float));
                    }
                    else
                    {
                        int jj = 0;
                        for (; jj < live; jj++) d[jj] = src[jj];
                        for (; jj < nr; jj++) d[jj] = 0f;
                    }
                }
            }
            else
            {
                for (int jj = 0; jj < live; jj++)
                {
                    float* src = b + (long)(j0 + s + jj) * ldb + p0;
                    for (int p = 0; p < depth; p++) panel[p * nr + jj] = src[p];
                }
                for (int jj = live; jj < nr; jj++)
                    for (int p = 0; p < depth; p++) panel[p * nr + jj] = 0f;
            }
        }
    }
}
