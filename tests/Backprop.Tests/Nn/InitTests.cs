using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class InitTests
{
    private static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        float[] d = t.ToArray();
        double mean = d.Average(v => (double)v);
        double std = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / d.Length);
        return (mean, std, d.Max(v => Math.Abs((double)v)));
    }

    private const int K = 128, C = 16, KH = 3, KW = 3;   // 18432 elements; fan_in 144, fan_out 1152
    private const double FanIn = C * KH * KW, FanOut = K * KH * KW;

    [Fact]
    public void FansOfAConvolutionWeight()
    {
        Assert.Equal((144, 1152), Init.Fans(new Shape(K, C, KH, KW)));
        Assert.Equal((800, 500), Init.Fans(new Shape(500, 800)));
    }

    [Fact]
    public void SameSeedGivesIdenticalWeights()
    {
        var a = new Backprop.Nn.Conv2d(3, 8, 3, generator: new Generator(42));
        var b = new Backprop.Nn.Conv2d(3, 8, 3, generator: new Generator(42));
        var c = new Backprop.Nn.Conv2d(3, 8, 3, generator: new Generator(43));
        Assert.Equal(a.Weight.ToArray(), b.Weight.ToArray());
        Assert.Equal(a.Bias!.ToArray(), b.Bias!.ToArray());
        Assert.NotEqual(a.Weight.ToArray(), c.Weight.ToArray());
        var x = Tensor.Zeros(50, 50);
        var y = Tensor.Zeros(50, 50);
        Init.Msra(x, new Generator(7));
        Init.Msra(y, new Generator(7));
        Assert.Equal(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void XavierIsUniformWithinSqrtThreeOverFanIn()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.Xavier(w, new Generator(1));
        double a = Math.Sqrt(3 / FanIn);
        var (mean, std, maxAbs) = Stats(w);
        Assert.True(maxAbs <= a, $"max {maxAbs} above bound {a}");
        Assert.True(maxAbs > 0.99 * a, $"max {maxAbs} far below bound {a}");
        Assert.InRange(mean, -0.02 * a, 0.02 * a);
        Assert.InRange(std, 0.97 * a / Math.Sqrt(3), 1.03 * a / Math.Sqrt(3));   // variance 1/fan_in

        var wOut = Tensor.Zeros(K, C, KH, KW);
        Init.Xavier(wOut, new Generator(1), FanMode.Average);
        Assert.True(Stats(wOut).MaxAbs <= Math.Sqrt(3 / ((FanIn + FanOut) / 2)));
    }

    [Fact]
    public void MsraHasStdSqrtTwoOverFanIn()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.Msra(w, new Generator(2));
        double s = Math.Sqrt(2 / FanIn);
        var (mean, std, _) = Stats(w);
        Assert.InRange(std, 0.97 * s, 1.03 * s);
        Assert.InRange(mean, -0.03 * s, 0.03 * s);
        Init.Msra(w, new Generator(2), FanMode.FanOut);
        Assert.InRange(Stats(w).Std, 0.97 * Math.Sqrt(2 / FanOut), 1.03 * Math.Sqrt(2 / FanOut));
    }

    [Fact]
    public void GlorotUniformBound()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.GlorotUniform(w, new Generator(3));
        double a = Math.Sqrt(6 / (FanIn + FanOut));
        var (_, std, maxAbs) = Stats(w);
        Assert.True(maxAbs <= a && maxAbs > 0.99 * a, $"max {maxAbs}, bound {a}");
        Assert.InRange(std, 0.97 * a / Math.Sqrt(3), 1.03 * a / Math.Sqrt(3));
    }

    [Fact]
    public void HeUniformBound()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.HeUniform(w, new Generator(4));
        double a = Math.Sqrt(6 / FanIn);
        var (_, _, maxAbs) = Stats(w);
        Assert.True(maxAbs <= a && maxAbs > 0.99 * a, $"max {maxAbs}, bound {a}");
    }

    [Fact]
    public void TruncatedNormalsKeepTheirTargetStdAndStopAtTwoSigma()
    {
        // Keras: the underlying normal has σ = target / 0.8796 and is cut at 2σ, so the result has the target std.
        foreach (var (name, fill, target) in new (string, Action<Tensor, Generator>, double)[]
        {
            ("he normal", Init.HeNormal, Math.Sqrt(2 / FanIn)),
            ("glorot normal", Init.GlorotNormal, Math.Sqrt(2 / (FanIn + FanOut))),
        })
        {
            var w = Tensor.Zeros(K, C, KH, KW);
            fill(w, new Generator(5));
            double sigma = target / 0.87962566103423978;
            var (mean, std, maxAbs) = Stats(w);
            Assert.True(maxAbs <= 2 * sigma * (1 + 1e-6), $"{name}: max {maxAbs} beyond 2σ = {2 * sigma}");
            Assert.True(maxAbs > 1.9 * sigma, $"{name}: max {maxAbs} well inside 2σ = {2 * sigma}");
            Assert.InRange(std, 0.97 * target, 1.03 * target);
            Assert.InRange(mean, -0.03 * target, 0.03 * target);
        }
    }

    [Fact]
    public void PyTorchDefaultBoundsAreOneOverSqrtFanIn()
    {
        var conv = new Backprop.Nn.Conv2d(C, K, 3, generator: new Generator(6));
        double b = 1 / Math.Sqrt(FanIn);
        var (_, std, maxAbs) = Stats(conv.Weight);
        Assert.True(maxAbs <= b && maxAbs > 0.99 * b, $"conv weight max {maxAbs}, bound {b}");
        Assert.InRange(std, 0.97 * b / Math.Sqrt(3), 1.03 * b / Math.Sqrt(3));
        Assert.True(Stats(conv.Bias!).MaxAbs <= b);
        Assert.True(conv.Bias!.ToArray().Distinct().Count() == K);

        var fc = new Backprop.Nn.Linear(200, 100, generator: new Generator(7));
        double bf = 1 / Math.Sqrt(200);
        var fs = Stats(fc.Weight);
        Assert.True(fs.MaxAbs <= bf && fs.MaxAbs > 0.99 * bf, $"linear weight max {fs.MaxAbs}, bound {bf}");
        Assert.InRange(fs.Std, 0.97 * bf / Math.Sqrt(3), 1.03 * bf / Math.Sqrt(3));
        var bias = Tensor.Zeros(20000);
        Init.PyTorchDefault(Tensor.Zeros(10, 200), bias, new Generator(8));
        var bs = Stats(bias);
        Assert.True(bs.MaxAbs <= bf && bs.MaxAbs > 0.99 * bf, $"linear bias max {bs.MaxAbs}, bound {bf}");
    }

    [Fact]
    public void KaimingNormalAndConstantAndGaussian()
    {
        var w = Tensor.Zeros(K, C, KH, KW);
        Init.KaimingNormal(w, new Generator(9));
        Assert.InRange(Stats(w).Std, 0.97 * Math.Sqrt(2 / FanIn), 1.03 * Math.Sqrt(2 / FanIn));
        Init.Gaussian(w, 1f, 0.5f, new Generator(10));
        var (mean, std, _) = Stats(w);
        Assert.InRange(mean, 0.99, 1.01);
        Assert.InRange(std, 0.485, 0.515);
        Init.Constant(w, 0.25f);
        Assert.All(w.ToArray(), v => Assert.Equal(0.25f, v));
        Init.Uniform(w, -0.1f, 0.3f, new Generator(11));
        Assert.All(w.ToArray(), v => Assert.InRange(v, -0.1f, 0.3f));
        Assert.InRange(Stats(w).Mean, 0.095, 0.105);
    }
}
