using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The forward statistics eight planes at a time (BatchNormShortMoments) and the vector merge over images give the bits of
/// the one-plane code, for every short plane length, runs of planes that are not a multiple of eight, and special values.
/// </summary>
[Collection("KernelSettings")]
public class BatchNormShortMomentsTests
{
    public static IEnumerable<object[]> Shapes()
    {
        foreach (int inner in new[] { 16, 48, 64, 96, 144, 256 })
            foreach (var (n, c) in new[] { (1, 1), (3, 5), (2, 13), (5, 8), (4, 17) })
                yield return [n, c, inner];
        yield return [3, 7, 36];    // not a multiple of 16: the general code
        yield return [2, 9, 512];   // longer than a short plane
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void StatisticsHaveTheBitsOfTheOnePlaneCode(int n, int c, int inner)
    {
        foreach (var (center, spread) in new[] { (0f, 1f), (1e4f, 0.05f), (-3f, 100f) })
        {
            float[] x = Normal(n * c * inner, n * 1000 + c * 10 + inner, center, spread);
            Compare(x, n, c, inner, $"{n}x{c}x{inner}, center {center}");
        }
    }

    [Fact]
    public void SpecialValuesHaveTheBitsOfTheOnePlaneCode()
    {
        const int n = 3, c = 11, inner = 64;
        float[] x = Normal(n * c * inner, 7, 1f, 2f);
        for (int i = 0; i < inner; i++) x[2 * inner + i] = -0f;                  // a plane of negative zeros
        for (int i = 0; i < inner; i++) x[3 * inner + i] = 5f;                   // a constant plane
        x[4 * inner + 3] = float.NaN;                                             // NaN
        x[5 * inner + 7] = float.PositiveInfinity;                                // infinity
        x[6 * inner + 1] = float.PositiveInfinity; x[6 * inner + 2] = float.NegativeInfinity;
        for (int i = 0; i < inner; i++) x[8 * inner + i] = 3e38f;                 // a float sum that overflows
        x[9 * inner] = 1e-42f;                                                    // a subnormal
        Compare(x, n, c, inner, "special values");
    }

    private static void Compare(float[] x, int n, int c, int inner, string what)
    {
        var results = new double[2][];
        foreach (int width in KernelTestUtil.Widths)
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(width, threads, () =>
                {
                    try
                    {
                        for (int run = 0; run < 2; run++)
                        {
                            BatchNormShortMoments.Enabled = run == 0;
                            double[] mean = new double[c], variance = new double[c];
                            BatchNorm.Statistics(x, n, c, inner, mean, variance);
                            results[run] = [.. mean, .. variance];
                        }
                    }
                    finally
                    {
                        BatchNormShortMoments.Enabled = true;
                    }
                    Assert.True(results[1].Select(Bits).SequenceEqual(results[0].Select(Bits)),
                        $"{what}, width {width}, {threads} threads: {string.Join(", ", results[0])} vs {string.Join(", ", results[1])}");
                });
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    private static float[] Normal(int length, int seed, float center, float spread)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u = 1 - rng.NextDouble(), v = rng.NextDouble();
            values[i] = (float)(center + spread * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        return values;
    }
}
