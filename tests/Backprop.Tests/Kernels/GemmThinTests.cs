using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The thin path (<see cref="GemmThin"/>: 16 &lt; n &lt;= 32, depth within one block, AVX-512) against
/// <see cref="GemmReference"/>, and bit for bit against the blocked path at 256 bits, which does the same
/// operations per element when the depth fits one block. Without AVX-512 these run the blocked path.
/// </summary>
[Collection("KernelSettings")]
public class GemmThinTests
{
    // (m, n, k): LeNet's conv1 shape; rows not a multiple of the 12-row tile (remainder rows only: 12..23);
    // n at both ends of the path (17, 32) and just outside it (16, 33); depth 1 and the block's end (256, 257).
    public static readonly (int M, int N, int K)[] Shapes =
    [
        (36864, 20, 25), (12, 20, 25), (13, 17, 1), (23, 32, 7), (25, 31, 256), (100, 20, 257), (49, 16, 25), (50, 33, 25),
        (301, 29, 3), (1000, 24, 1), (40, 20, 25),
    ];

    private static readonly (float Alpha, float Beta)[] Scales = [(1f, 0f), (0.5f, -1.5f), (-2f, 1f)];

    [Fact]
    public void MatchesReferenceAndTheBlockedPath()
    {
        int seed = 1;
        foreach (var (m, n, k) in Shapes)
        foreach (bool transA in new[] { false, true })
        foreach (bool transB in new[] { false, true })
        foreach (var (alpha, beta) in Scales)
        {
            if (m > 1000 && (transA || transB || beta != 0f)) continue;   // the large shape once, as convolution calls it
            Check(transA, transB, m, n, k, alpha, beta, extra: seed % 3 == 0 ? 0 : seed % 4 + 1, seed++);
        }
    }

    [Fact]
    public void BitIdenticalForOneAndTwoThreads()
    {
        const int m = 5000, n = 20, k = 25;
        float[] a = KernelTestUtil.Random(m * k, 21), b = KernelTestUtil.Random(k * n, 22), c0 = KernelTestUtil.Random(m * n, 23);
        float[] one = (float[])c0.Clone(), two = (float[])c0.Clone();
        KernelTestUtil.With(null, 1, () => Gemm.Sgemm(false, false, m, n, k, 0.75f, a, k, b, n, 0.25f, one, n));
        KernelTestUtil.With(null, 2, () => Gemm.Sgemm(false, false, m, n, k, 0.75f, a, k, b, n, 0.25f, two, n));
        KernelTestUtil.AssertBitIdentical(one, two, $"Sgemm {m}x{n}x{k}");
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int extra, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + extra, ldb = bCols + 2 * extra, ldc = n + extra;
        float[] a = KernelTestUtil.Random((aRows - 1) * lda + aCols, seed);
        float[] b = KernelTestUtil.Random((bRows - 1) * ldb + bCols, seed + 1000);
        // One float past C's last row: a masked store that wrote past column n of the last row would change it.
        float[] c = KernelTestUtil.Random(m * ldc + 1, seed + 2000);
        if (beta == 0f)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[i * ldc + j] = float.NaN;
        }
        float[] expected = (float[])c.Clone(), actual = (float[])c.Clone(), blocked = (float[])c.Clone();
        string what = $"Sgemm {m}x{n}x{k} transA={transA} transB={transB} alpha={alpha} beta={beta} ld+{extra}";
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        KernelTestUtil.With(512, 1, () => Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc));
        double atol = (1e-6 * k + 1e-6) * (Math.Abs(alpha) + Math.Abs(beta) + 1);
        KernelTestUtil.AssertClose(expected, actual, atol, 1e-5, what);
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.True(BitConverter.SingleToInt32Bits(c[i * ldc + j]) == BitConverter.SingleToInt32Bits(actual[i * ldc + j]), $"{what}: wrote past column n at ({i}, {j})");
        Assert.True(BitConverter.SingleToInt32Bits(c[^1]) == BitConverter.SingleToInt32Bits(actual[^1]), $"{what}: wrote past the end of C");
        if (k <= Gemm.Kc && SimdWidth.Hardware >= 256)
        {
            KernelTestUtil.With(256, 1, () => Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, blocked, ldc));
            KernelTestUtil.AssertBitIdentical(blocked, actual, $"{what}: 512 (thin path) against 256 (blocked)");
        }
    }
}
