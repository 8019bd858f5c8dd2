using OneByOne;
using Xunit.Abstractions;

namespace Backprop.Tests.Examples;

public class OneByOneExampleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(2, 64, 32, 9, 7)]
    [InlineData(1, 3, 5, 4, 4)]
    [InlineData(3, 130, 70, 5, 6)]
    public void OneByOneConvolutionAndLinearGiveTheSameNumbersAtEveryPixel(int n, int c, int cOut, int h, int w)
    {
        float diff = OneByOneComparison.MaxDifference(n, c, cOut, h, w);
        output.WriteLine($"({n}, {c}, {h}, {w}) -> {cOut}: max diff {diff:G3}");
        Assert.InRange(diff, 0f, 1e-5f);
    }

    [Fact]
    public void TheLinearPathKeepsTheConvolutionsLayout()
    {
        var layers = new TwinLayers(4, 6, new Generator(3));
        var x = Tensor.Randn(new Generator(4), 2, 4, 3, 5);
        Assert.Equal(new Shape(2, 6, 3, 5), layers.ApplyLinearPerPixel(x).Shape);
        // Output channel k at pixel (1, 2, 4) is bias[k] + Σ_c W[k, c]·x[1, c, 2, 4], worked out in plain loops.
        var y = layers.ApplyConv(x);
        for (int k = 0; k < 6; k++)
        {
            double expected = layers.Conv.Bias![k];
            for (int ch = 0; ch < 4; ch++) expected += layers.Linear.Weight[k, ch] * x[1, ch, 2, 4];
            Assert.Equal(expected, y[1, k, 2, 4], 5);
        }
    }

    [Fact]
    public void TimingReturnsAPositiveTimePerElementForBoth()
    {
        var (conv, linear) = OneByOneComparison.NanosecondsPerElement(1, 16, 16, 8, 8, repetitions: 2);
        Assert.True(conv > 0 && double.IsFinite(conv));
        Assert.True(linear > 0 && double.IsFinite(linear));
    }
}
