using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class ActivationTests(ITestOutputHelper output)
{
    [Fact]
    public void ReluForwardAndGradient()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0f, 0.5f, 3f]);
        Assert.Equal([0f, 0f, 0f, 0.5f, 3f], Backprop.Functional.Relu(x).ToArray());
        // Values kept 0.05 away from the kink at 0; the step is 0.01.
        var leaf = AwayFrom(new Generator(41), 0f, 0.05f, 2, 3, 4, 3);
        GradientCheck.Check(xs => Backprop.Functional.Relu(xs[0]), [leaf], output, "relu", ["input"]);
    }

    [Fact]
    public void ReluGradientAtZeroIsZero()
    {
        var x = Tensor.FromArray([0f, 1f]);
        x.RequiresGrad = true;
        Backprop.Functional.Relu(x).Backward(Tensor.FromArray([5f, 5f]));
        Assert.Equal([0f, 5f], x.Grad!.ToArray());
    }

    [Theory]
    [InlineData(0.01f)]
    [InlineData(0.2f)]
    public void LeakyReluForwardAndGradient(float slope)
    {
        var x = Tensor.FromArray([-2f, 0f, 3f]);
        Assert.Equal([-2f * slope, 0f, 3f], Backprop.Functional.LeakyRelu(x, slope).ToArray());
        var leaf = AwayFrom(new Generator(42), 0f, 0.05f, 2, 3, 5);
        GradientCheck.Check(xs => Backprop.Functional.LeakyRelu(xs[0], slope), [leaf], output, $"leaky relu {slope}", ["input"]);
    }

    [Fact]
    public void SigmoidForwardAndGradient()
    {
        var x = Tensor.FromArray([-3f, 0f, 2f]);
        AssertClose(new[] { 1 / (1 + Math.Exp(3)), 0.5, 1 / (1 + Math.Exp(-2)) }, Backprop.Functional.Sigmoid(x).ToArray(), 1e-6, "sigmoid");
        var leaf = Tensor.Normal(new Generator(43), 0f, 2f, 2, 3, 4);
        leaf.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.Sigmoid(xs[0]), [leaf], output, "sigmoid", ["input"]);
    }

    [Fact]
    public void TanhForwardAndGradient()
    {
        var x = Tensor.FromArray([-1.5f, 0f, 0.7f]);
        AssertClose(new[] { Math.Tanh(-1.5), 0, Math.Tanh(0.7) }, Backprop.Functional.Tanh(x).ToArray(), 1e-6, "tanh");
        var leaf = Leaf(new Generator(44), 3, 2, 5);
        GradientCheck.Check(xs => Backprop.Functional.Tanh(xs[0]), [leaf], output, "tanh", ["input"]);
    }

    private static double[] ReferenceSoftmax(Tensor x, int axis, bool log)
    {
        int a = x.Shape.NormalizeAxis(axis);
        int outer = 1, n = x.Shape[a], inner = 1;
        for (int i = 0; i < a; i++) outer *= x.Shape[i];
        for (int i = a + 1; i < x.Rank; i++) inner *= x.Shape[i];
        float[] xd = x.ToArray();
        var y = new double[xd.Length];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                double m = double.NegativeInfinity;
                for (int k = 0; k < n; k++) m = Math.Max(m, xd[(o * n + k) * inner + j]);
                double s = 0;
                for (int k = 0; k < n; k++) s += Math.Exp(xd[(o * n + k) * inner + j] - m);
                for (int k = 0; k < n; k++)
                {
                    double z = xd[(o * n + k) * inner + j] - m;
                    y[(o * n + k) * inner + j] = log ? z - Math.Log(s) : Math.Exp(z) / s;
                }
            }
        return y;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(-1, false)]
    [InlineData(2, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(-1, true)]
    public void SoftmaxForwardAndGradient3D(int axis, bool log)
    {
        var x = Tensor.Normal(new Generator(45), 0f, 2f, 2, 4, 3);
        x.RequiresGrad = true;
        var y = log ? Backprop.Functional.LogSoftmax(x, axis) : Backprop.Functional.Softmax(x, axis);
        AssertClose(ReferenceSoftmax(x, axis, log), y.ToArray(), 1e-5, log ? "log softmax" : "softmax");
        GradientCheck.Check(xs => log ? Backprop.Functional.LogSoftmax(xs[0], axis) : Backprop.Functional.Softmax(xs[0], axis), [x], output,
            $"{(log ? "log softmax" : "softmax")} axis {axis}", ["input"]);
    }

    [Fact]
    public void SoftmaxSumsToOne()
    {
        var x = Tensor.Normal(new Generator(46), 0f, 10f, 3, 7, 2);
        var y = Backprop.Functional.Softmax(x, 1).Sum(1).ToArray();
        Assert.All(y, s => Assert.Equal(1f, s, 5));
        var z = Backprop.Functional.Softmax(Tensor.FromArray([1f, 2f, 3f], 1, 3)).ToArray();
        AssertClose(new[] { 0.09003057, 0.24472847, 0.66524096 }, z, 1e-6, "softmax [1, 2, 3]");
    }

    [Fact]
    public void LogSoftmaxIsStableForLargeLogits()
    {
        var y = Backprop.Functional.LogSoftmax(Tensor.FromArray([1000f, -1000f], 1, 2)).ToArray();
        Assert.Equal(0f, y[0]);
        Assert.Equal(-2000f, y[1]);
        var z = Backprop.Functional.LogSoftmax(Tensor.FromArray([1000f, 1000f, -1000f], 1, 3)).ToArray();
        Assert.All(z, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(-MathF.Log(2), z[0], 5);
        Assert.Equal(-MathF.Log(2), z[1], 5);
        var p = Backprop.Functional.Softmax(Tensor.FromArray([1000f, -1000f, 999f], 1, 3)).ToArray();
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
        AssertClose(new[] { 1 / (1 + Math.Exp(-1)), 0, Math.Exp(-1) / (1 + Math.Exp(-1)) }, p, 1e-6, "softmax of large logits");
    }

    [Fact]
    public void SoftmaxBackwardOfConstantGradientIsZero()
    {
        // Σ softmax = 1, so an all-ones upstream gradient gives zero: why the checks draw a random one.
        var x = Leaf(new Generator(47), 2, 5);
        Backprop.Functional.Softmax(x).Backward(Tensor.Ones(2, 5));
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v, 6));
    }

    [Fact]
    public void GradientCheckCatchesAWrongGradient()
    {
        // x + detach(x) has derivative 2 but the graph only sees 1.
        var x = Leaf(new Generator(48), 3, 2);
        var ex = Assert.Throws<Xunit.Sdk.XunitException>(() => GradientCheck.Check(xs => xs[0] + xs[0].Detach(), [x], output, "broken", ["x"]));
        Assert.Contains("x (input 0) at element 0", ex.Message);
        Assert.Contains("analytic", ex.Message);
        Assert.Contains("numeric", ex.Message);
    }
}
