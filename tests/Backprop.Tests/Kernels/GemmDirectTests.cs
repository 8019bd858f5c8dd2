using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The direct path (<see cref="GemmDirect"/>: depth within one block, op(B) untransposed and small, AVX-512; A and B read
/// where they lie, only edge panels packed) against <see cref="GemmReference"/>, and bit for bit against the blocked path
/// at 256 bits, which does the same operations per element when the depth fits one block. Without AVX-512 these run the
/// blocked path.
/// </summary>
[Collection("KernelSettings")]
public class GemmDirectTests
{
    // (m, n, k): 256³ and LeNet's ip1 weight gradient (500x800x64 TN); rows not a multiple of the 10-row tile, columns not
    // a multiple of 32 (a packed edge panel), both at once; the smallest tile (10x32) and one more of each; depth 1 and the
    // block's end (256, 257: the blocked path); B just past the path's size (128K floats); fewer than 10 rows or 32 columns.
    public static readonly (int M, int N, int K)[] Shapes =
    [
        (256, 256, 256), (500, 800, 64), (10, 32, 1), (11, 33, 1), (19, 63, 7), (23, 45, 256), (37, 96, 64), (64, 500, 100),
        (30, 64, 257), (21, 513, 256), (9, 40, 5), (40, 31, 5), (101, 77, 13),
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
            if ((long)m * n * k > 4_000_000 && (transB || beta == 0.5f)) continue;   // the large shapes fewer times
            Check(transA, transB, m, n, k, alpha, beta, extra: seed % 3 == 0 ? 0 : seed % 4 + 1, seed++);
        }
    }

    [Fact]
    public void BitIdenticalForOneAndTwoThreads()
    {
        foreach (var (m, n, k) in new[] { (500, 800, 64), (801, 100, 40) })   // split by column panels, then by row bands
        {
            float[] a = KernelTestUtil.Random(k * m, 21), b = KernelTestUtil.Random(k * n, 22), c0 = KernelTestUtil.Random(m * n, 23);
            float[] one = (float[])c0.Clone(), two = (float[])c0.Clone();
            KernelTestUtil.With(null, 1, () => Gemm.Sgemm(true, false, m, n, k, 0.75f, a, m, b, n, 1f, one, n));
            KernelTestUtil.With(null, 2, () => Gemm.Sgemm(true, false, m, n, k, 0.75f, a, m, b, n, 1f, two, n));
            KernelTestUtil.AssertBitIdentical(one, two, $"Sgemm TN {m}x{n}x{k}");
        }
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int extra, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + extra, ldb = bCols + 2 * extra, ldc = n + extra;
        // A and B end at their last element (no slack past it): the edge band and panel are packed, zero padded, so that
        // the tile reads nothing past them.
        float[] a = KernelTestUtil.Random((aRows - 1) * lda + aCols, seed);
        float[] b = KernelTestUtil.Random((bRows - 1) * ldb + bCols, seed + 1000);
        float[] c = KernelTestUtil.Random(m * ldc + 1, seed + 2000);   // one float past C's last row
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
            KernelTestUtil.AssertBitIdentical(blocked, actual, $"{what}: 512 (direct path) against 256 (blocked)");
        }
    }
}
