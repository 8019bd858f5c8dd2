using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class LeCunInitTests
{
    private const int K = 64, C = 16, KH = 3, KW = 3;   // 9216 elements; fan_in 144
    private const double FanIn = C * KH * KW;

    [Fact]
    public void LeCunUniformStaysWithinAndReachesItsBound()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.LeCunUniform(w, new Generator(3));
        double a = Math.Sqrt(3 / FanIn);
        float[] d = w.ToArray();
        double maxAbs = d.Max(v => Math.Abs((double)v));
        Assert.True(maxAbs <= a && maxAbs > 0.99 * a, $"max {maxAbs}, bound {a}");
        double std = Math.Sqrt(d.Average(v => (double)v * v));
        Assert.InRange(std, 0.95 * a / Math.Sqrt(3), 1.05 * a / Math.Sqrt(3));   // uniform on [−a, a]: σ = a/√3
    }

    [Fact]
    public void LeCunNormalHasTargetStdAndStopsAtTwoSigma()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.LeCunNormal(w, new Generator(5));
        double target = Math.Sqrt(1 / FanIn), sigma = target / 0.87962566103423978;
        float[] d = w.ToArray();
        double mean = d.Average(v => (double)v);
        double std = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / d.Length);
        double maxAbs = d.Max(v => Math.Abs((double)v));
        Assert.True(maxAbs <= 2 * sigma * (1 + 1e-6), $"max {maxAbs} beyond 2σ = {2 * sigma}");
        Assert.InRange(std, 0.95 * target, 1.05 * target);
        Assert.InRange(mean, -0.05 * target, 0.05 * target);
    }
}
