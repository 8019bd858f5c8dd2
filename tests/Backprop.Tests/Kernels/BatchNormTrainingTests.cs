using Backprop.Kernels;
using static Backprop.Tests.Kernels.KernelTestUtil;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The training passes (BatchNorm.TrainingForward…, TrainingBackward…) give the bits of the separate kernels (statistics,
/// normalize; sums, dx) run on one thread, on 1, 2 and 3 threads at every SIMD width, and match the reference.
/// </summary>
[Collection("KernelSettings")]
public class BatchNormTrainingTests
{
    // (N, C, inner, mean of x, spread of x)
    public static readonly TheoryData<int, int, int, float, float> Shapes = new()
    {
        { 3, 4, 37, 0.5f, 1.5f },
        { 5, 6, 1, -1f, 2f },
        { 4, 12, 64, 0f, 1f },
        { 2, 3, 2500, 1f, 3f },
        { 1, 5, 23, 0f, 1f },
        { 2, 2, 300, 1e4f, 0.05f },
        { 3, 4, 256, 0.5f, 1f },
        { 2, 3, 1024, -0.5f, 2f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardHasTheBitsOfTheSeparateKernels(int n, int c, int inner, float center, float spread)
    {
        float[] x = Normal(n * c * inner, 31, center, spread), residual = Normal(x.Length, 32, 0f, spread);
        float[] weight = Normal(c, 33, 1f, 0.5f), bias = Normal(c, 34, 0f, 1f);
        foreach (int mode in new[] { 0, 1, 2 })   // plain, relu, add-relu
        foreach (bool affine in new[] { true, false })
        {
            float[] w = affine ? weight : [], b = affine ? bias : [];
            ForEverySetting(n, c, inner, (width, what) =>
            {
                // The separate kernels' sums depend on the SIMD width: at this setting's width, on one thread.
                var expected = new Forward(c, x.Length);
                KernelTestUtil.With(width, 1, () =>
                {
                    BatchNorm.Statistics(x, n, c, inner, expected.Mean, expected.Variance);
                    BatchNorm.InverseStd(expected.Variance, 1e-5f, expected.InvStd);
                    if (mode == 2) BatchNorm.NormalizeAddRelu(x, residual, n, c, inner, expected.Mean, expected.InvStd, w, b, expected.Y);
                    else BatchNorm.Normalize(x, n, c, inner, expected.Mean, expected.InvStd, w, b, expected.Y, relu: mode == 1);
                });
                var actual = new Forward(c, x.Length);
                if (mode == 2) BatchNorm.TrainingForwardAddRelu(x, residual, n, c, inner, 1e-5f, w, b, actual.Mean, actual.Variance, actual.InvStd, actual.Y);
                else BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, actual.Mean, actual.Variance, actual.InvStd, actual.Y, relu: mode == 1);
                what = $"{what}, mode {mode}, affine {affine}";
                Assert.Equal(expected.Mean, actual.Mean);
                Assert.Equal(expected.Variance, actual.Variance);
                Assert.Equal(expected.InvStd, actual.InvStd);
                KernelTestUtil.AssertBitIdentical(expected.Y, actual.Y, $"{what}: y");
            });
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardHasTheBitsOfTheSeparateKernels(int n, int c, int inner, float center, float spread)
    {
        float[] x = Normal(n * c * inner, 41, center, spread), dy = Normal(x.Length, 42, 0.1f, 1f), y = Normal(x.Length, 45, 0f, 1f);
        float[] weight = Normal(c, 43, 1f, 0.5f), bias = Normal(c, 44, 0f, 1f);
        double[] mean = new double[c], variance = new double[c], invStd = new double[c];
        BatchNorm.Statistics(x, n, c, inner, mean, variance);
        BatchNorm.InverseStd(variance, 1e-5f, invStd);
        foreach (int mode in new[] { 0, 1, 2 })   // plain, relu, add-relu
        foreach (bool affine in new[] { true, false })
        {
            float[] w = affine ? weight : [], b = affine ? bias : [];
            ForEverySetting(n, c, inner, (width, what) =>
            {
                var expected = new Backward(c, x.Length);
                KernelTestUtil.With(width, 1, () =>
                {
                    float[] g = dy;
                    if (mode == 2)
                    {
                        Activations.ReluBackward(y, dy, expected.Masked);
                        g = expected.Masked;
                    }
                    if (mode == 1) BatchNorm.BackwardSumsRelu(x, g, n, c, inner, mean, invStd, w, b, expected.SumDy, expected.SumDyXhat);
                    else BatchNorm.BackwardSums(x, g, n, c, inner, mean, invStd, expected.SumDy, expected.SumDyXhat);
                    BatchNorm.BackwardInput(x, g, n, c, inner, mean, invStd, w, expected.SumDy, expected.SumDyXhat, true, expected.Dx, mode == 1, b);
                });
                var actual = new Backward(c, x.Length);
                if (mode == 2) BatchNorm.TrainingBackwardAddRelu(x, y, dy, n, c, inner, mean, invStd, w, actual.SumDy, actual.SumDyXhat, actual.Masked, actual.Dx);
                else BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, actual.SumDy, actual.SumDyXhat, actual.Dx, relu: mode == 1);
                what = $"{what}, mode {mode}, affine {affine}";
                Assert.Equal(expected.SumDy, actual.SumDy);
                Assert.Equal(expected.SumDyXhat, actual.SumDyXhat);
                KernelTestUtil.AssertBitIdentical(expected.Dx, actual.Dx, $"{what}: dx");
                KernelTestUtil.AssertBitIdentical(expected.Masked, actual.Masked, $"{what}: masked");
            });
        }
    }

    [Fact]
    public void MatchesTheReference()
    {
        int n = 4, c = 6, inner = 50;
        float[] x = Normal(n * c * inner, 51, 2f, 1.5f), dy = Normal(x.Length, 52, 0f, 1f);
        float[] weight = Normal(c, 53, 1f, 0.5f), bias = Normal(c, 54, 0f, 1f);
        double[] mean = new double[c], variance = new double[c], invStd = new double[c], sumDy = new double[c], sumDyXhat = new double[c];
        double[] rMean = new double[c], rVariance = new double[c], rInvStd = new double[c], rSumDy = new double[c], rSumDyXhat = new double[c];
        float[] y = new float[x.Length], dx = new float[x.Length], ry = new float[x.Length], rdx = new float[x.Length];
        KernelTestUtil.With(null, 2, () =>
        {
            BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, weight, bias, mean, variance, invStd, y);
            BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, weight, bias, sumDy, sumDyXhat, dx);
        });
        BatchNormReference.Statistics(x, n, c, inner, rMean, rVariance);
        BatchNorm.InverseStd(rVariance, 1e-5f, rInvStd);
        BatchNormReference.Normalize(x, n, c, inner, rMean, rInvStd, weight, bias, ry);
        BatchNormReference.BackwardSums(x, dy, n, c, inner, rMean, rInvStd, rSumDy, rSumDyXhat);
        BatchNormReference.BackwardInput(x, dy, n, c, inner, rMean, rInvStd, weight, rSumDy, rSumDyXhat, true, rdx);
        for (int ch = 0; ch < c; ch++)
        {
            Assert.True(Math.Abs(rMean[ch] - mean[ch]) <= 1e-6, $"mean[{ch}] {mean[ch]:R} vs {rMean[ch]:R}");
            Assert.True(Math.Abs(rVariance[ch] - variance[ch]) <= 1e-5 * rVariance[ch], $"variance[{ch}] {variance[ch]:R} vs {rVariance[ch]:R}");
            Assert.True(Math.Abs(rSumDy[ch] - sumDy[ch]) <= 1e-4, $"sumDy[{ch}] {sumDy[ch]:R} vs {rSumDy[ch]:R}");
            Assert.True(Math.Abs(rSumDyXhat[ch] - sumDyXhat[ch]) <= 1e-4, $"sumDyXhat[{ch}] {sumDyXhat[ch]:R} vs {rSumDyXhat[ch]:R}");
        }
        KernelTestUtil.AssertClose(ry, y, 3e-6, 3e-6, "y");
        KernelTestUtil.AssertClose(rdx, dx, 3e-6 * rdx.Max(Math.Abs), 3e-6, "dx");
    }

    // body(width, description) at every SIMD width on 1, 2 and 3 threads.
    private static void ForEverySetting(int n, int c, int inner, Action<int, string> body)
    {
        foreach (int width in KernelTestUtil.Widths)
        foreach (int threads in new[] { 1, 2, 3 })
            KernelTestUtil.With(width, threads, () => body(width, $"({n}, {c}, {inner}), width {width}, {threads} threads"));
    }

    private sealed class Forward(int c, int length)
    {
        public double[] Mean { get; } = new double[c];
        public double[] Variance { get; } = new double[c];
        public double[] InvStd { get; } = new double[c];
        public float[] Y { get; } = new float[length];
    }

    private sealed class Backward(int c, int length)
    {
        public double[] SumDy { get; } = new double[c];
        public double[] SumDyXhat { get; } = new double[c];
        public float[] Dx { get; } = new float[length];
        public float[] Masked { get; } = new float[length];
    }
}
