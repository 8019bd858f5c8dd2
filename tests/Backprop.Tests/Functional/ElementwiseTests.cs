using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>Prelu, Elu, Softplus, Step and MeanVarianceNorm against plain-loop definitions, and their gradients.</summary>
public class ElementwiseTests(ITestOutputHelper output)
{
    [Fact]
    public void PreluMatchesItsDefinitionAndGradients()
    {
        var x = AwayFrom(new Generator(1), 0f, 0.05f, 2, 3, 4);
        var w = UniformLeaf(new Generator(2), -1f, 1f, 3);
        var y = Backprop.Functional.Prelu(x, w).ToArray();
        var xs = x.ToArray();
        var ws = w.ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.Equal(xs[i] > 0 ? xs[i] : ws[i / 4 % 3] * xs[i], y[i]);
        GradientCheck.Check(t => Backprop.Functional.Prelu(t[0], t[1]), [x, w], output, "prelu", ["input", "weight"]);
        var shared = UniformLeaf(new Generator(3), -1f, 1f, 1);
        GradientCheck.Check(t => Backprop.Functional.Prelu(t[0], t[1]), [x, shared], output, "prelu shared", ["input", "weight"]);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Prelu(x, Tensor.Zeros(2)));
    }

    [Fact]
    public void PreluGradientAtZeroTakesTheNegativeSide()
    {
        var x = Tensor.FromArray([0f, 0f], 1, 2);
        x.RequiresGrad = true;
        var w = Tensor.FromArray([0.5f, 0.25f]);
        w.RequiresGrad = true;
        Backprop.Functional.Prelu(x, w).Backward(Tensor.FromArray([2f, 4f], 1, 2));
        Assert.Equal([1f, 1f], x.Grad!.ToArray());
        Assert.Equal([0f, 0f], w.Grad!.ToArray());
    }

    [Fact]
    public void EluAndSoftplusMatchTheirDefinitionsAndGradients()
    {
        var x = AwayFrom(new Generator(4), 0f, 0.05f, 3, 5);
        var xs = x.ToArray();
        var elu = Backprop.Functional.Elu(x, 0.7f).ToArray();
        var softplus = Backprop.Functional.Softplus(x).ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.Equal(xs[i] > 0 ? xs[i] : 0.7 * (Math.Exp(xs[i]) - 1), elu[i], 5);
            Assert.Equal(Math.Log(1 + Math.Exp(xs[i])), softplus[i], 5);
        }
        GradientCheck.Check(t => Backprop.Functional.Elu(t[0], 0.7f), [x], output, "elu");
        GradientCheck.Check(t => Backprop.Functional.Softplus(t[0]), [x], output, "softplus");
        Assert.Equal([80f, 0f], Backprop.Functional.Softplus(Tensor.FromArray([80f, -200f])).ToArray());
    }

    [Fact]
    public void StepIsOneAboveTheThresholdAndRefusesBackward()
    {
        var x = Tensor.FromArray([-1f, 0.5f, 0.6f, float.NaN]);
        Assert.Equal([0f, 0f, 1f, 0f], Backprop.Functional.Step(x, 0.5f).ToArray());
        x.RequiresGrad = true;
        var e = Assert.Throws<InvalidOperationException>(() => Backprop.Functional.Step(x, 0f, "my step").Sum().Backward());
        Assert.Contains("my step has no gradient", e.Message);
        Assert.False(Backprop.Functional.Step(x.Detach()).RequiresGrad);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MeanVarianceNormMatchesItsDefinitionAndGradient(bool normalizeVariance)
    {
        var x = Leaf(new Generator(5), 4, 6);
        var y = Backprop.Functional.MeanVarianceNorm(x, 4, normalizeVariance, 1e-3f).ToArray();
        var xs = x.ToArray();
        for (int r = 0; r < 4; r++)
        {
            var row = xs.AsSpan(r * 6, 6).ToArray();
            double mean = row.Average(v => (double)v);
            double sd = Math.Sqrt(row.Average(v => (v - mean) * (v - mean)));
            for (int i = 0; i < 6; i++)
                Assert.Equal(normalizeVariance ? (row[i] - mean) / (sd + 1e-3) : row[i] - mean, y[r * 6 + i], 5);
        }
        // eps 0: Caffe's backward is then the exact gradient.
        GradientCheck.Check(t => Backprop.Functional.MeanVarianceNorm(t[0], 4, normalizeVariance, 0f), [x], output, "mvn", step: 1e-3);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.MeanVarianceNorm(x, 5));
    }
}
