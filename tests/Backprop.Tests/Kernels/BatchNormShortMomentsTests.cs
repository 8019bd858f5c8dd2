using Backprop.Kernels;
using static Backprop.Tests.Kernels.KernelTestUtil;

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

    [Theory]
    [InlineData(3, 13, 64)]
    [InlineData(2, 17, 16)]
    [InlineData(3, 9, 256)]
    [InlineData(2, 11, 1024)]
    [InlineData(4, 8, 144)]
    public void TrainingPassesHaveTheBitsOfTheOnePlaneCode(int n, int c, int inner)
    {
        float[] x = Normal(n * c * inner, 1, 2f, 1.5f), dy = Normal(x.Length, 2, 0f, 1f), r = Normal(x.Length, 3, 0f, 1f);
        float[] w = Normal(c, 4, 1f, 0.5f), b = Normal(c, 5, 0f, 1f);
        var results = new List<double[]>[2];
        try
        {
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(null, threads, () =>
                {
                    for (int run = 0; run < 2; run++)
                    {
                        BatchNormShortMoments.Enabled = run == 0;
                        var all = results[run] = [];
                        double[] mean = new double[c], variance = new double[c], invStd = new double[c], sa = new double[c], sb = new double[c];
                        float[] y = new float[x.Length], y2 = new float[x.Length], dx = new float[x.Length], dx2 = new float[x.Length], dx3 = new float[x.Length];
                        float[] masked = new float[x.Length];
                        BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y, relu: true);
                        BatchNorm.TrainingForwardAddRelu(x, r, n, c, inner, 1e-5f, w, b, new double[c], new double[c], new double[c], y2);
                        BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, sa, sb, dx, relu: true);
                        all.AddRange([mean, variance, invStd, (double[])sa.Clone(), (double[])sb.Clone(), D(y), D(y2), D(dx)]);
                        BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, sa, sb, dx3);
                        all.AddRange([(double[])sa.Clone(), (double[])sb.Clone(), D(dx3)]);
                        BatchNorm.TrainingBackwardAddRelu(x, y2, dy, n, c, inner, mean, invStd, w, sa, sb, masked, dx2);
                        all.AddRange([(double[])sa.Clone(), (double[])sb.Clone(), D(dx2), D(masked)]);
                    }
                    Assert.Equal(results[1].Count, results[0].Count);
                    for (int i = 0; i < results[0].Count; i++)
                        Assert.Equal(results[1][i].Select(Bits), results[0][i].Select(Bits));
                });
        }
        finally
        {
            BatchNormShortMoments.Enabled = true;
        }
    }

    private static double[] D(float[] values) => values.Select(v => (double)v).ToArray();

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);
}
