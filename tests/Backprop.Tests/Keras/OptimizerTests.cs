using Backprop.Keras;
using Backprop.Nn;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Keras;

/// <summary>Each Keras optimizer against a plain loop of Keras 3's published update equations, three steps.</summary>
public class OptimizerTests
{
    private static Parameter RunKeras(KerasOptimizer optimizer)
    {
        var p = Param(W0);
        Run(optimizer.Create([p]));
        return p;
    }

    [Theory]
    [InlineData("sgd", "sgd")]
    [InlineData("Adam", "adam")]
    [InlineData(" adamw", "adamw")]
    [InlineData("rmsprop", "rmsprop")]
    [InlineData("adagrad", "adagrad")]
    [InlineData("adadelta", "adadelta")]
    [InlineData("nadam", "nadam")]
    [InlineData("ADAMAX", "adamax")]
    public void NamesGiveKerasOptimizers(string name, string expected) =>
        Assert.Equal(expected, KerasOptimizer.FromName(name).Name);

    [Fact]
    public void UnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => KerasOptimizer.FromName("lamb"));
        Assert.Contains("adamax", e.Message);
    }

    [Fact]
    public void AdamWDecaysTheWeightsBeforeKerasAdamStep()
    {
        var p = RunKeras("adamw");
        const double lr = 0.001, wd = 0.004, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        double[] w = [.. W0], m = new double[3], v = new double[3];
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                w[i] -= w[i] * wd * lr;
                m[i] += (g - m[i]) * (1 - b1);
                v[i] += (g * g - v[i]) * (1 - b2);
                double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
                w[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + eps);
            }
        AssertClose(w, p);
        // Without the decay the weights end elsewhere: the decay is really applied.
        AssertDiffer(p, RunKeras(new AdamW(weightDecay: 0)), 1e-6);
    }

    [Fact]
    public void AdagradPutsEpsilonInsideTheRoot()
    {
        var p = RunKeras(new Adagrad(learningRate: 0.1, epsilon: 0.01));
        const double lr = 0.1, eps = 0.01;
        double[] w = [.. W0], s = [0.1, 0.1, 0.1];
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t][i];
                s[i] += g * g;
                w[i] -= lr * g / Math.Sqrt(s[i] + eps);
            }
        AssertClose(w, p);
    }

    [Fact]
    public void AdadeltaFollowsZeiler()
    {
        var p = RunKeras(new Adadelta(learningRate: 1.0));
        const double lr = 1.0, rho = 0.95, eps = 1e-7;
        double[] w = [.. W0], accGrad = new double[3], accDelta = new double[3];
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t][i];
                accGrad[i] = rho * accGrad[i] + (1 - rho) * g * g;
                double delta = -Math.Sqrt(accDelta[i] + eps) / Math.Sqrt(accGrad[i] + eps) * g;
                accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
                w[i] += lr * delta;
            }
        AssertClose(w, p);
    }

    [Fact]
    public void NadamFollowsKerasMomentumSchedule()
    {
        var p = RunKeras(new Nadam(learningRate: 0.1));
        const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        double[] w = [.. W0], m = new double[3], v = new double[3];
        double uProduct = 1;
        for (int t = 1; t <= 3; t++)
        {
            double uT = b1 * (1 - 0.5 * Math.Pow(0.96, t)), uNext = b1 * (1 - 0.5 * Math.Pow(0.96, t + 1));
            uProduct *= uT;
            double uProductNext = uProduct * uNext;
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                m[i] += (g - m[i]) * (1 - b1);
                v[i] += (g * g - v[i]) * (1 - b2);
                double mHat = uNext * m[i] / (1 - uProductNext) + (1 - uT) * g / (1 - uProduct);
                double vHat = v[i] / (1 - Math.Pow(b2, t));
                w[i] -= mHat * lr / (Math.Sqrt(vHat) + eps);
            }
        }
        AssertClose(w, p);
    }

    [Fact]
    public void AdamaxAddsEpsilonAfterTheMax()
    {
        var p = RunKeras(new Adamax(learningRate: 0.1, epsilon: 0.01));
        const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 0.01;
        double[] w = [.. W0], m = new double[3], u = new double[3];
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i];
                m[i] += (g - m[i]) * (1 - b1);
                u[i] = Math.Max(b2 * u[i], Math.Abs(g));
                w[i] -= lr * m[i] / ((1 - Math.Pow(b1, t)) * (u[i] + eps));
            }
        AssertClose(w, p);
    }
}
