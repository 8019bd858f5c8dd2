using Backprop.Kernels;
using static Backprop.Tests.Kernels.KernelTestUtil;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The short-plane path (BatchNormShortPlanes, 512-bit planes of up to 256 values) gives the bits of the general
/// BatchNormSums code it replaces, in the sums themselves and in every BatchNorm kernel that uses it.
/// </summary>
[Collection("KernelSettings")]
public class BatchNormShortPlanesTests
{
    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(1e4f, 0.05f)]
    [InlineData(-3f, 100f)]
    public unsafe void SumsHaveTheBitsOfTheGeneralCode(float center, float spread)
    {
        if (!SimdWidth.Allows512(SimdWidth.Hardware)) return;   // the short path never runs without AVX-512
        for (int length = 16; length <= BatchNormShortPlanes.MaxLength; length += 16)
        {
            float[] x = Normal(length, length, center, spread), g = Normal(length, length + 1, 0f, 1f);
            fixed (float* px = x, pg = g)
            {
                BatchNormSums.Sums(new ShiftedMoments(0f, 0f), px, px, length, out double sum, out _);
                Assert.Equal(Bits(sum), Bits(BatchNormShortPlanes.Sum(px, length)));
                var hi = (float)(sum / length);
                var lo = (float)(sum / length - hi);
                Same(new ShiftedMoments(hi, lo), px, px, length);
                Same(new GradientMoments(hi, lo), px, pg, length);
                Same(new ReluMaskedGradientMoments(new BatchNorm.NormalizeOp(hi, lo, 1.5f, 0.25f, true)), px, pg, length);
            }
        }
    }

    [Fact]
    public unsafe void NegativeZerosSumAsTheGeneralCode()
    {
        if (!SimdWidth.Allows512(SimdWidth.Hardware)) return;
        float[] x = Enumerable.Repeat(-0f, 48).ToArray();
        fixed (float* px = x)
        {
            BatchNormSums.Sums(new ShiftedMoments(0f, 0f), px, px, x.Length, out double sum, out _);
            Assert.Equal(Bits(sum), Bits(BatchNormShortPlanes.Sum(px, x.Length)));
        }
    }

    [Theory]
    [InlineData(4, 12, 64)]
    [InlineData(3, 5, 48)]
    [InlineData(2, 7, 256)]
    [InlineData(3, 4, 16)]
    public void KernelsHaveTheBitsOfTheGeneralCode(int n, int c, int inner)
    {
        float[] x = Normal(n * c * inner, 1, 2f, 1.5f), dy = Normal(x.Length, 2, 0f, 1f), r = Normal(x.Length, 3, 0f, 1f);
        float[] w = Normal(c, 4, 1f, 0.5f), b = Normal(c, 5, 0f, 1f);
        var results = new List<double[]>[2];
        try
        {
            for (int run = 0; run < 2; run++)
            {
                BatchNormShortPlanes.Enabled = run == 0;
                var all = results[run] = [];
                double[] mean = new double[c], variance = new double[c], invStd = new double[c], sa = new double[c], sb = new double[c];
                float[] y = new float[x.Length], y2 = new float[x.Length], dx = new float[x.Length], dx2 = new float[x.Length], masked = new float[x.Length];
                BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y, relu: true);
                BatchNorm.TrainingForwardAddRelu(x, r, n, c, inner, 1e-5f, w, b, new double[c], new double[c], new double[c], y2);
                BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, sa, sb, dx, relu: true);
                all.AddRange([mean, variance, invStd, sa, sb, Doubles(y), Doubles(y2), Doubles(dx)]);
                BatchNorm.TrainingBackwardAddRelu(x, y2, dy, n, c, inner, mean, invStd, w, sa, sb, masked, dx2);
                all.AddRange([(double[])sa.Clone(), (double[])sb.Clone(), Doubles(dx2)]);
            }
        }
        finally
        {
            BatchNormShortPlanes.Enabled = true;
        }
        Assert.Equal(results[1].Count, results[0].Count);
        for (int i = 0; i < results[0].Count; i++)
            Assert.Equal(results[1][i].Select(Bits), results[0][i].Select(Bits));
    }

    private static unsafe void Same<T>(T terms, float* x, float* g, int length) where T : struct, IPairTerms
    {
        BatchNormSums.Sums(terms, x, g, length, out double a, out double b);
        BatchNormShortPlanes.Sums(terms, x, g, length, out double shortA, out double shortB);
        Assert.Equal(Bits(a), Bits(shortA));
        Assert.Equal(Bits(b), Bits(shortB));
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    private static double[] Doubles(float[] values) => values.Select(v => (double)v).ToArray();
}
