using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class GemmTests
{
    // (m, n, k): sizes 1, primes, not multiples of any vector width, deep K, more rows than one
    // row block (144) and more columns than one column block (1024).
    public static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (7, 13, 5), (17, 3, 129), (64, 65, 300), (130, 67, 513), (1, 97, 83), (89, 1, 61),
        (301, 29, 17), (5, 1031, 11), (31, 37, 1000),
        (23, 1100, 600),   // more columns than one block and several depth blocks: all of A packed once per depth block
    ];

    private static readonly (float Alpha, float Beta)[] Scales = [(1f, 0f), (0.5f, -1.5f), (-2f, 1f), (1f, 1f)];

    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    [InlineData(128)]
    [InlineData(0)]
    public void MatchesReference(int width)
    {
        KernelTestUtil.With(width, null, () =>
        {
            int seed = 1;
            foreach (var (m, n, k) in Shapes)
            foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            foreach (var (alpha, beta) in Scales)
                Check(transA, transB, m, n, k, alpha, beta, extra: seed % 3 == 0 ? 0 : seed % 5 + 1, seed++);
        });
    }

    [Fact]
    public unsafe void TallTileMatchesAFusedMultiplyAddChain()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;   // the tall tile is AVX-512 only
        var rng = new Random(3);
        foreach (int depth in new[] { 1, 7, 300 })
        foreach (int rows in new[] { 1, 6, 9, 10 })
        foreach (int cols in new[] { 1, 17, 32 })
        foreach (var (alpha, beta) in Scales)
        {
            const int mr = GemmMicroKernels.TallMr, nr = 32, ldc = 37;
            float[] a = new float[depth * mr], b = new float[depth * nr], c = new float[mr * ldc];
            for (int p = 0; p < depth; p++)
            {
                for (int i = 0; i < rows; i++) a[p * mr + i] = (float)rng.NextDouble() - 0.5f;   // rows past `rows` stay zero, as packed
                for (int j = 0; j < nr; j++) b[p * nr + j] = (float)rng.NextDouble() - 0.5f;
            }
            for (int i = 0; i < c.Length; i++) c[i] = (float)rng.NextDouble();
            float[] expected = (float[])c.Clone();
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    float acc = 0f;
                    for (int p = 0; p < depth; p++) acc = MathF.FusedMultiplyAdd(a[p * mr + i], b[p * nr + j], acc);
                    float v = acc * alpha;
                    if (beta != 0f) v += c[i * ldc + j] * beta;
                    expected[i * ldc + j] = v;
                }
            fixed (float* pa = a, pb = b, pc = c)
                GemmMicroKernels.Kernel512x10(depth, pa, pb, pc, ldc, rows, cols, alpha, beta);
            KernelTestUtil.AssertBitIdentical(expected, c, $"tall tile depth {depth}, {rows}x{cols}, alpha {alpha}, beta {beta}");
        }
    }

    [Fact]
    public void ZeroDepthOrAlphaOnlyScalesC()
    {
        var c = new float[] { 1, 2, float.NaN, 4 };
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0.5f, c, 2);
        Assert.Equal(new float[] { 0.5f, 1, float.NaN, 2 }, c);
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0f, c, 2);
        Assert.Equal(new float[] { 0, 0, 0, 0 }, c);
    }

    [Fact]
    public void TooShortBufferThrows()
    {
        var a = new float[6];
        var b = new float[6];
        var c = new float[3];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2));
        Assert.Contains("c", e.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 2, b, 2, 0f, new float[4], 2));
    }

    [Theory]
    [InlineData(200, 190, 300)]
    [InlineData(37, 500, 70)]
    [InlineData(500, 37, 70)]
    [InlineData(67, 301, 600)]
    [InlineData(41, 2100, 300)]   // both thread counts pack all of A at once per depth block
    [InlineData(37, 900, 600)]    // one thread packs all of A at once, two threads' 450 columns each the usual way
    public void BitIdenticalForOneAndTwoThreads(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        foreach (bool transB in new[] { false, true })
        {
            float[] a = KernelTestUtil.Random(m * k, 11), b = KernelTestUtil.Random(k * n, 12), c0 = KernelTestUtil.Random(m * n, 13);
            float[] one = (float[])c0.Clone(), two = (float[])c0.Clone();
            int lda = transA ? m : k, ldb = transB ? k : n;
            KernelTestUtil.With(null, 1, () => Gemm.Sgemm(transA, transB, m, n, k, 0.75f, a, lda, b, ldb, 0.25f, one, n));
            KernelTestUtil.With(null, 2, () => Gemm.Sgemm(transA, transB, m, n, k, 0.75f, a, lda, b, ldb, 0.25f, two, n));
            KernelTestUtil.AssertBitIdentical(one, two, $"Sgemm {m}x{n}x{k} transA={transA} transB={transB}");
        }
    }

    // One row of A above the small-product size (a fully connected layer at batch 1) takes the matrix-vector path.
    [Theory]
    [InlineData(500, 800)]
    [InlineData(10, 500)]
    [InlineData(37, 4099)]
    public void OneRowProductsMatchTheReference(int n, int k)
    {
        foreach (bool transB in new[] { false, true })
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-1.5f, 0.25f) })
        foreach (int extra in new[] { 0, 3 })
            Check(false, transB, 1, n, k, alpha, beta, extra, seed: n + k);
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int extra, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + extra, ldb = bCols + 2 * extra, ldc = n + extra;
        float[] a = KernelTestUtil.Random((aRows - 1) * lda + aCols, seed);
        float[] b = KernelTestUtil.Random((bRows - 1) * ldb + bCols, seed + 1000);
        float[] c = KernelTestUtil.Random(m * ldc, seed + 2000);
        if (beta == 0f)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[i * ldc + j] = float.NaN;
        }
        float[] expected = (float[])c.Clone();
        float[] actual = (float[])c.Clone();
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc);
        // Values are in [-1, 1]: a float sum of k products is off by at most about k*eps*(k/4) in the
        // worst case and about eps*k in practice; 1e-6*k leaves a wide margin without hiding bugs.
        double atol = (1e-6 * k + 1e-6) * (Math.Abs(alpha) + Math.Abs(beta) + 1);
        string what = $"Sgemm {m}x{n}x{k} transA={transA} transB={transB} alpha={alpha} beta={beta} ld+{extra} width={SimdWidth.Max}";
        KernelTestUtil.AssertClose(expected, actual, atol, 1e-5, what);
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.True(BitConverter.SingleToInt32Bits(c[i * ldc + j]) == BitConverter.SingleToInt32Bits(actual[i * ldc + j]), $"{what}: wrote past column n at ({i}, {j})");
    }
}
