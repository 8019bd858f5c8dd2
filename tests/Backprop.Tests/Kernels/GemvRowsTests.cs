using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The one-row product with B transposed (a fully connected layer at batch 1, <see cref="GemvRows"/>) through
/// <see cref="Gemm.Sgemm"/> against the plain loops, at every SIMD width, on 1 and 2 threads (bit for bit).
/// </summary>
[Collection("KernelSettings")]
public class GemvRowsTests
{
    public static readonly TheoryData<int, int, int, float, float> Shapes = new()
    {
        { 500, 800, 800, 1f, 0f },     // LeNet's fc1
        { 10, 500, 500, 1f, 1f },      // fc2 with a bias already in c
        { 9, 17, 20, 0.5f, -2f },      // one block of 8 and one row alone; a tail of 1; ldb beyond k
        { 61, 100, 103, 1f, 0f },      // 7 blocks and 5 rows; a tail of 4
        { 3000, 64, 64, -1f, 0.25f },  // many blocks: the threads split them
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheReferenceAndTheThreadCount(int n, int k, int ldb, float alpha, float beta)
    {
        float[] a = KernelTestUtil.Random(k, 1), b = KernelTestUtil.Random(n * ldb, 2), c0 = KernelTestUtil.Random(n, 3);
        float[] expected = (float[])c0.Clone();
        GemmReference.Sgemm(false, true, 1, n, k, alpha, a, k, b, ldb, beta, expected, n);
        foreach (int width in KernelTestUtil.Widths)
        {
            float[] one = (float[])c0.Clone(), two = (float[])c0.Clone();
            KernelTestUtil.With(width, 1, () => Gemm.Sgemm(false, true, 1, n, k, alpha, a, k, b, ldb, beta, one, n));
            KernelTestUtil.With(width, 2, () => Gemm.Sgemm(false, true, 1, n, k, alpha, a, k, b, ldb, beta, two, n));
            KernelTestUtil.AssertClose(expected, one, 1e-5 * k, 1e-5, $"n={n} k={k} width {width}");
            KernelTestUtil.AssertBitIdentical(one, two, $"n={n} k={k} width {width}, 1 and 2 threads");
        }
    }

    [Fact]
    public void RunsWithAvx512Only()
    {
        Assert.Equal(SimdWidth.Allows512(512), GemvRows.Applies(512, 800));
        Assert.False(GemvRows.Applies(256, 800));
        Assert.False(GemvRows.Applies(512, 15));   // rows shorter than a vector: the dot-product loop
    }

    [Fact]
    public void NaNInCIsIgnoredWhenBetaIsZero()
    {
        float[] a = KernelTestUtil.Random(32, 4), b = KernelTestUtil.Random(16 * 32, 5), c = new float[16];   // GemvRows at 512 bits
        Array.Fill(c, float.NaN);
        Gemm.Sgemm(false, true, 1, 16, 32, 1f, a, 32, b, 32, 0f, c, 16);
        Assert.All(c, v => Assert.False(float.IsNaN(v)));
    }
}
