using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The turned-over small-batch product (<see cref="GemmFewRows"/>: c = a·b^T + bias for 32..256 rows of a, AVX-512)
/// against <see cref="GemmReference"/>, bit for bit against what Functional.Linear ran before it (bias rows, then the
/// blocked <see cref="Gemm.Sgemm"/>), and on 1 and 2 threads. Without AVX-512 it does not apply and these only check that.
/// </summary>
[Collection("KernelSettings")]
public class GemmFewRowsTests
{
    // (m, n, k): LeNet's fc1 at batch 64, one 12-row tile of B at fc2's depth; B's rows not a multiple of the 12-row tile (13, 25, 37: a 1-row tail);
    // depth 5, across one depth block (256, 257) and over several with a short tail (800, 513); m up to 256.
    public static readonly TheoryData<int, int, int> Shapes = new()
    {
        { 64, 500, 800 }, { 64, 12, 500 }, { 32, 13, 257 }, { 96, 25, 256 }, { 256, 37, 513 }, { 32, 100, 5 }, { 64, 24, 17 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SameBitsAsTheBlockedPathOnAnyThreadCount(int m, int n, int k)
    {
        float[] a = KernelTestUtil.Random(m * k, 31), b = KernelTestUtil.Random(n * k, 32), bias = KernelTestUtil.Random(n, 33);
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Hardware < 512) return;   // the path needs AVX-512 (a cap of 512 does not add it)
            Assert.True(GemmFewRows.Applies(512, m, n, k), $"{m}x{n}x{k}: the path should run");
            foreach (float[] bi in new[] { bias, [] })
            {
                string what = $"{m}x{n}x{k}, bias {bi.Length > 0}";
                float[] blocked = new float[m * n];
                if (bi.Length > 0)
                    for (int r = 0; r < m; r++) bi.CopyTo(blocked, r * n);
                else Array.Fill(blocked, float.NaN);   // beta 0 ignores what C held
                KernelTestUtil.With(null, 1, () => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, bi.Length > 0 ? 1f : 0f, blocked, n));
                float[] one = Run(m * n, 1, c => GemmFewRows.Run(m, n, k, a, b, bi, c));
                float[] two = Run(m * n, 2, c => GemmFewRows.Run(m, n, k, a, b, bi, c));
                float[] expected = new float[m * n];
                if (bi.Length > 0)
                    for (int r = 0; r < m; r++) bi.CopyTo(expected, r * n);
                GemmReference.Sgemm(false, true, m, n, k, 1f, a, k, b, k, bi.Length > 0 ? 1f : 0f, expected, n);
                KernelTestUtil.AssertClose(expected, one, 1e-6 * k + 1e-6, 1e-5, $"{what} against the reference");
                KernelTestUtil.AssertBitIdentical(blocked, one, $"{what} against the blocked path");
                KernelTestUtil.AssertBitIdentical(one, two, $"{what} on 1 and 2 threads");
            }
        });
    }

    // (m, n, k) of c = a·b: LeNet's fc1 input gradient (64 x 800 from depth 500), a last tile of 1 to 11 columns of b, depth across blocks.
    public static readonly TheoryData<int, int, int> ShapesNN = new()
    {
        { 64, 800, 500 }, { 64, 13, 24 }, { 32, 25, 257 }, { 96, 37, 513 }, { 256, 100, 5 }, { 64, 24, 17 },
    };

    [Theory]
    [MemberData(nameof(ShapesNN))]
    public void TurnedInputGradientMatchesReferenceAndBlockedBits(int m, int n, int k)
    {
        float[] a = KernelTestUtil.Random(m * k, 41), b = KernelTestUtil.Random(k * n, 42);
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Hardware < 512) return;   // the path needs AVX-512
            Assert.True(GemmFewRows.AppliesNN(512, m, n, k), $"{m}x{n}x{k}: the path should run");
            string what = $"NN {m}x{n}x{k}";
            float[] blocked = new float[m * n];
            KernelTestUtil.With(null, 1, () => Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, blocked, n));
            float[] one = Run(m * n, 1, c => GemmFewRows.RunNN(m, n, k, a, b, c));
            float[] two = Run(m * n, 2, c => GemmFewRows.RunNN(m, n, k, a, b, c));
            float[] expected = new float[m * n];
            GemmReference.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, expected, n);
            KernelTestUtil.AssertClose(expected, one, 1e-6 * k + 1e-6, 1e-5, $"{what} against the reference");
            KernelTestUtil.AssertBitIdentical(blocked, one, $"{what} against the blocked path");
            KernelTestUtil.AssertBitIdentical(one, two, $"{what} on 1 and 2 threads");
        });
    }

    [Fact]
    public void LinearAtBatch64RunsItWithTheBlockedBits()
    {
        var generator = new Generator(5);
        Tensor x = Tensor.Rand(generator, 64, 800), w = Tensor.Rand(generator, 500, 800), bias = Tensor.Rand(generator, 500);
        KernelTestUtil.With(512, 2, () =>
        {
            if (SimdWidth.Hardware < 512) return;   // the path needs AVX-512 (a cap of 512 does not add it)
            float[] y = Functional.Linear(x, w, bias).ToArray();
            float[] blocked = new float[64 * 500];
            for (int r = 0; r < 64; r++) bias.ToArray().CopyTo(blocked, r * 500);
            Gemm.Sgemm(false, true, 64, 500, 800, 1f, x.ToArray(), 800, w.ToArray(), 800, 1f, blocked, 500);
            KernelTestUtil.AssertBitIdentical(blocked, y, "Linear 800->500 at batch 64");
        });
    }

    [Fact]
    public void OtherShapesKeepSgemm()
    {
        Assert.False(GemmFewRows.Applies(512, 48, 500, 800));    // rows not a multiple of 32
        Assert.False(GemmFewRows.Applies(512, 512, 500, 800));   // more than 256 rows: the packed B pays off
        Assert.False(GemmFewRows.Applies(512, 64, 11, 800));     // fewer than one 12-row tile of B
        Assert.False(GemmFewRows.Applies(512, 32, 12, 16));      // Sgemm's small-product loops
        Assert.False(GemmFewRows.Applies(256, 64, 500, 800));    // AVX2
    }

    private static float[] Run(int length, int threads, Action<float[]> body)
    {
        float[] result = new float[length];
        Array.Fill(result, float.NaN);   // every element must be written
        KernelTestUtil.With(512, threads, () => body(result));
        return result;
    }
}
