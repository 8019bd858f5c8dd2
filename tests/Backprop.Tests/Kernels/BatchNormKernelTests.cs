using Backprop.Kernels;
using static Backprop.Tests.Kernels.KernelTestUtil;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class BatchNormKernelTests
{
    // (name, N, C, inner, mean of x, spread of x)
    public static readonly TheoryData<string, int, int, int, float, float> Shapes = new()
    {
        { "inner 37 (no vector multiple)", 2, 3, 37, 0.5f, 1.5f },
        { "inner 1", 5, 4, 1, -1f, 2f },
        { "C 1", 3, 1, 50, 2f, 0.7f },
        { "N 1", 1, 3, 23, 0f, 1f },
        { "inner 2500 (several blocks)", 2, 3, 2500, 1f, 3f },
        { "large mean 1e4, spread 0.05", 2, 2, 300, 1e4f, 0.05f },
    };

    [Fact]
    public void ReferenceStatisticsByHand()
    {
        // Channel 0 holds 1, 2 (image 0) and 5, 8 (image 1): mean 4, biased variance (9 + 4 + 1 + 16)/4 = 7.5.
        float[] x = [1, 2, 10, 10, 5, 8, 10, 10];
        double[] mean = new double[2], variance = new double[2];
        BatchNormReference.Statistics(x, 2, 2, 2, mean, variance);
        Assert.Equal([4.0, 10.0], mean);
        Assert.Equal([7.5, 0.0], variance);
    }

    [Fact]
    public void UpdateRunningUsesUnbiasedVariance()
    {
        float[] rm = [1f], rv = [1f];
        BatchNorm.UpdateRunning([2.0], [3.0], 4, 0.1f, rm, rv);
        Assert.Equal(0.9 * 1 + 0.1 * 2, rm[0], 6);
        Assert.Equal(0.9 * 1 + 0.1 * (3.0 * 4 / 3), rv[0], 6);   // unbiased: 3·4/3 = 4
    }

    [Fact]
    public void ConstantLargeChannelHasZeroVarianceAndGivesTheBias()
    {
        int n = 3, c = 2, inner = 41;
        var x = new float[n * c * inner];
        Array.Fill(x, 12345.5f);
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 2, () =>
            {
                double[] mean = new double[c], variance = new double[c], invStd = new double[c];
                BatchNorm.Statistics(x, n, c, inner, mean, variance);
                Assert.Equal([12345.5, 12345.5], mean);
                Assert.Equal([0.0, 0.0], variance);
                BatchNorm.InverseStd(variance, 1e-5f, invStd);
                var y = new float[x.Length];
                BatchNorm.Normalize(x, n, c, inner, mean, invStd, [2f, 3f], [0.25f, -1f], y);
                for (int i = 0; i < y.Length; i++) Assert.Equal((i / inner) % c == 0 ? 0.25f : -1f, y[i]);
            });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastMatchesReference(string name, int n, int c, int inner, float center, float spread)
    {
        float[] x = Normal(n * c * inner, 11, center, spread), dy = Normal(x.Length, 12, 0.1f, 1f);
        float[] weight = Normal(c, 13, 1f, 0.3f), bias = Normal(c, 14, 0f, 1f);
        float[] runningMean = Normal(c, 15, center, spread), runningVar = Array.ConvertAll(Normal(c, 16, spread * spread * 2, spread * spread * 0.5f), Math.Abs);
        foreach (bool training in new[] { true, false })
        foreach (bool affine in new[] { true, false })
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 2, () =>
            {
                string what = $"{name}, {(training ? "training" : "eval")}, {(affine ? "affine" : "no weight/bias")}, width {width}";
                var expected = Run(true, x, dy, n, c, inner, training, affine ? weight : [], affine ? bias : [], runningMean, runningVar);
                var actual = Run(false, x, dy, n, c, inner, training, affine ? weight : [], affine ? bias : [], runningMean, runningVar);
                for (int ch = 0; ch < c; ch++)
                {
                    double sd = Math.Sqrt(expected.Variance[ch]);
                    Assert.True(Math.Abs(expected.Mean[ch] - actual.Mean[ch]) <= 1e-6 * sd + 1e-12, $"{what}: mean[{ch}] {expected.Mean[ch]:R} vs {actual.Mean[ch]:R}");
                    Assert.True(Math.Abs(expected.Variance[ch] - actual.Variance[ch]) <= 1e-5 * expected.Variance[ch] + 1e-12,
                        $"{what}: variance[{ch}] {expected.Variance[ch]:R} vs {actual.Variance[ch]:R}");
                    // Sums of count terms of size ~1: a few float roundings per term at most.
                    Assert.True(Math.Abs(expected.SumDy[ch] - actual.SumDy[ch]) <= 1e-6 * Math.Sqrt(n * inner) * 3, $"{what}: sumDy[{ch}] {expected.SumDy[ch]:R} vs {actual.SumDy[ch]:R}");
                    Assert.True(Math.Abs(expected.SumDyXhat[ch] - actual.SumDyXhat[ch]) <= 1e-6 * Math.Sqrt(n * inner) * 3,
                        $"{what}: sumDyXhat[{ch}] {expected.SumDyXhat[ch]:R} vs {actual.SumDyXhat[ch]:R}");
                }
                KernelTestUtil.AssertClose(expected.Y, actual.Y, 3e-6, 3e-6, $"{what}: y");
                double dxScale = expected.Dx.Max(Math.Abs);
                KernelTestUtil.AssertClose(expected.Dx, actual.Dx, 3e-6 * dxScale, 3e-6, $"{what}: dx");
            });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ThreadCountDoesNotChangeTheBits(string name, int n, int c, int inner, float center, float spread)
    {
        float[] x = Normal(n * c * inner, 21, center, spread), dy = Normal(x.Length, 22, 0f, 1f);
        float[] weight = Normal(c, 23, 1f, 0.3f), bias = Normal(c, 24, 0f, 1f);
        float[] runningMean = Normal(c, 25, center, spread), runningVar = Array.ConvertAll(Normal(c, 26, spread * spread * 2, spread * spread * 0.5f), Math.Abs);
        foreach (bool training in new[] { true, false })
        foreach (int width in KernelTestUtil.Widths)
        {
            Result? one = null;
            foreach (int threads in new[] { 1, 2, 3, 5 })
                KernelTestUtil.With(width, threads, () =>
                {
                    var r = Run(false, x, dy, n, c, inner, training, weight, bias, runningMean, runningVar);
                    if (one is null) { one = r; return; }
                    string what = $"{name}, {(training ? "training" : "eval")}, width {width}, {threads} threads vs 1";
                    Assert.Equal(one.Mean, r.Mean);
                    Assert.Equal(one.Variance, r.Variance);
                    Assert.Equal(one.SumDy, r.SumDy);
                    Assert.Equal(one.SumDyXhat, r.SumDyXhat);
                    KernelTestUtil.AssertBitIdentical(one.Y, r.Y, $"{what}: y");
                    KernelTestUtil.AssertBitIdentical(one.Dx, r.Dx, $"{what}: dx");
                });
        }
    }

    private sealed record Result(double[] Mean, double[] Variance, double[] InvStd, float[] Y, double[] SumDy, double[] SumDyXhat, float[] Dx);

    // Forward and backward as Functional.BatchNorm runs them, through the reference or the fast kernels.
    private static Result Run(bool reference, float[] x, float[] dy, int n, int c, int inner, bool training, float[] weight, float[] bias,
        float[] runningMean, float[] runningVar)
    {
        double[] mean = new double[c], variance = new double[c], invStd = new double[c], sumDy = new double[c], sumDyXhat = new double[c];
        if (training && reference) BatchNormReference.Statistics(x, n, c, inner, mean, variance);
        else if (training) BatchNorm.Statistics(x, n, c, inner, mean, variance);
        else
            for (int ch = 0; ch < c; ch++) (mean[ch], variance[ch]) = (runningMean[ch], runningVar[ch]);
        BatchNorm.InverseStd(variance, 1e-5f, invStd);
        float[] y = new float[x.Length], dx = new float[x.Length];
        if (reference)
        {
            BatchNormReference.Normalize(x, n, c, inner, mean, invStd, weight, bias, y);
            BatchNormReference.BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            BatchNormReference.BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, training, dx);
        }
        else
        {
            BatchNorm.Normalize(x, n, c, inner, mean, invStd, weight, bias, y);
            BatchNorm.BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            BatchNorm.BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, training, dx);
        }
        return new Result(mean, variance, invStd, y, sumDy, sumDyXhat, dx);
    }
}
