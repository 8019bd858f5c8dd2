using Xunit.Abstractions;
using F = Backprop.Functional;

namespace Backprop.Tests.FunctionalOps;

public class LocalResponseNormTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, 5, 2f)]
    [InlineData(true, 3, 1f)]
    public void GradientCheck(bool withinChannel, int size, float k)
    {
        var x = Tensor.Randn(new Generator(3), 2, 4, 3, 5);
        x.RequiresGrad = true;
        Tests.GradientCheck.Check(v => F.LocalResponseNorm(v[0], size, 0.5f, 0.75f, k, withinChannel), [x], output,
            $"LRN {(withinChannel ? "within channel" : "across channels")} size {size}", ["input"], step: 1e-2, threshold: 1e-2);
    }

    [Fact]
    public void AcrossChannelsMatchesTheFormula()
    {
        // PyTorch's local_response_norm(x, 3, alpha=0.5, beta=0.75, k=2): x / (2 + 0.5/3 · Σ over channels c-1..c+1 of x²)^0.75
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8], 1, 4, 1, 2);
        var y = F.LocalResponseNorm(x, 3, 0.5f, 0.75f, 2f).ToArray();
        float[] v = x.ToArray();
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 2; p++)
            {
                double sum = 0;
                for (int cc = Math.Max(0, c - 1); cc <= Math.Min(3, c + 1); cc++) sum += v[cc * 2 + p] * v[cc * 2 + p];
                Assert.Equal(v[c * 2 + p] / Math.Pow(2 + 0.5 / 3 * sum, 0.75), y[c * 2 + p], 5);
            }
    }

    [Fact]
    public void RejectsAnythingButFourDimensions()
    {
        var ex = Assert.Throws<ArgumentException>(() => F.LocalResponseNorm(Tensor.Zeros(2, 3), 3));
        Assert.Contains("(N, C, H, W)", ex.Message);
    }
}
