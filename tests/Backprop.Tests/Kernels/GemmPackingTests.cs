using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The packing routines against their definitions (plain index arithmetic), and the blocked product against the exact
/// operation sequence it promises (one fused multiply-add chain per depth block of <see cref="Gemm.Kc"/>, then
/// alpha * acc + beta * C), bit for bit at every SIMD width.
/// </summary>
[Collection("KernelSettings")]
public class GemmPackingTests
{
    [Theory]
    [InlineData(10, 240, 256)]   // the AVX-512 tall tile's full block
    [InlineData(10, 37, 13)]     // depth not a multiple of 8, a partial last panel
    [InlineData(6, 31, 9)]
    [InlineData(8, 17, 20)]
    [InlineData(4, 7, 5)]
    public unsafe void PackAMatchesItsDefinition(int mr, int rows, int depth)
    {
        foreach (int width in KernelTestUtil.Widths)
        foreach (bool transA in new[] { false, true })
        {
            const int i0 = 3, p0 = 5;
            int lda = (transA ? i0 + rows : p0 + depth) + 7;
            float[] a = KernelTestUtil.Random((transA ? p0 + depth : i0 + rows) * lda, seed: mr + rows + depth);
            int panels = (rows + mr - 1) / mr;
            float[] expected = new float[panels * mr * depth];
            for (int i = 0; i < rows; i++)
                for (int p = 0; p < depth; p++)
                    expected[i / mr * mr * depth + p * mr + i % mr] = transA ? a[(p0 + p) * lda + i0 + i] : a[(i0 + i) * lda + p0 + p];
            float[] actual = new float[expected.Length];
            Array.Fill(actual, float.NaN);   // the padding rows must be written as zeros
            KernelTestUtil.With(width, null, () =>
            {
                fixed (float* pa = a, pd = actual) GemmPacking.PackA(transA, pa, lda, i0, rows, p0, depth, mr, pd);
            });
            KernelTestUtil.AssertBitIdentical(expected, actual, $"PackA width {width} transA {transA} mr {mr} rows {rows} depth {depth}");
        }
    }

    [Theory]
    [InlineData(32, 1024, 256)]
    [InlineData(32, 77, 13)]     // two full panels and a partial one
    [InlineData(16, 40, 7)]
    [InlineData(8, 9, 3)]
    [InlineData(4, 6, 5)]
    public unsafe void PackBMatchesItsDefinition(int nr, int cols, int depth)
    {
        foreach (int width in KernelTestUtil.Widths)
        foreach (bool transB in new[] { false, true })
        {
            const int j0 = 2, p0 = 4;
            int ldb = (transB ? p0 + depth : j0 + cols) + 5;
            float[] b = KernelTestUtil.Random((transB ? j0 + cols : p0 + depth) * ldb, seed: nr + cols + depth);
            int panels = (cols + nr - 1) / nr;
            float[] expected = new float[panels * nr * depth];
            for (int j = 0; j < cols; j++)
                for (int p = 0; p < depth; p++)
                    expected[j / nr * nr * depth + p * nr + j % nr] = transB ? b[(j0 + j) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + j];
            float[] actual = new float[expected.Length];
            Array.Fill(actual, float.NaN);
            KernelTestUtil.With(width, null, () =>
            {
                fixed (float* pb = b, pd = actual) GemmPacking.PackB(transB, pb, ldb, p0, depth, j0, cols, nr, pd);
            });
            KernelTestUtil.AssertBitIdentical(expected, actual, $"PackB width {width} transB {transB} nr {nr} cols {cols} depth {depth}");
        }
    }

    // More columns than one column block (Nc), three depth blocks, rows that leave a partial tile at every width.
    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(0.5f, -1.5f)]
    public void BlockedProductIsOneFusedChainPerDepthBlock(float alpha, float beta)
    {
        const int m = 23, n = Gemm.Nc + 26, k = 2 * Gemm.Kc + 88;
        float[] a = KernelTestUtil.Random(m * k, 1), b = KernelTestUtil.Random(k * n, 2), c0 = KernelTestUtil.Random(m * n, 3);
        float[] expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float cv = c0[i * n + j];
                for (int pc = 0; pc < k; pc += Gemm.Kc)
                {
                    float acc = 0f;
                    for (int p = pc; p < Math.Min(k, pc + Gemm.Kc); p++) acc = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], acc);
                    float blockBeta = pc == 0 ? beta : 1f;
                    float v = acc * alpha;
                    if (blockBeta != 0f) v += cv * blockBeta;
                    cv = v;
                }
                expected[i * n + j] = cv;
            }
        foreach (int width in KernelTestUtil.Widths)
        foreach (int threads in new[] { 1, 2 })
        {
            float[] c = (float[])c0.Clone();
            KernelTestUtil.With(width, threads, () => Gemm.Sgemm(false, false, m, n, k, alpha, a, k, b, n, beta, c, n));
            KernelTestUtil.AssertBitIdentical(expected, c, $"width {width}, {threads} threads, alpha {alpha}, beta {beta}");
        }
    }
}
