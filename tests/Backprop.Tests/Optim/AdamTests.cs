using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class AdamTests
{
    /// <summary>Adam by the formula; decay is "grad" (L2 into the gradient) or "decoupled" (AdamW).</summary>
    private static double[] Expected(double lr, double b1, double b2, double eps, double wd, bool decoupled, bool caffeEps = false)
    {
        double[] w = [.. W0], m = new double[3], v = new double[3];
        for (int s = 0; s < 3; s++)
        {
            int t = s + 1;
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                if (decoupled) w[i] -= lr * wd * w[i];
                else g += wd * w[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
                w[i] -= caffeEps
                    ? lr * Math.Sqrt(c2) / c1 * m[i] / (Math.Sqrt(v[i]) + eps)
                    : lr / c1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(c2) + eps);
            }
        }
        return w;
    }

    [Fact]
    public void AdamMatchesTheFormula()
    {
        var p = Param(W0);
        Run(new Adam([p], learningRate: 0.01f));
        AssertClose(Expected(0.01, 0.9, 0.999, 1e-8, 0, decoupled: false), p);
    }

    [Fact]
    public void AdamWithL2DecayAndOtherBetas()
    {
        var p = Param(W0);
        var opt = new Adam([p], learningRate: 0.05f, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f, weightDecay: 0.1f);
        Run(opt);
        AssertClose(Expected(0.05, 0.8, 0.99, 1e-6, 0.1, decoupled: false), p);
        Assert.Equal(3, opt.State(p).Step);
        Assert.Equal(["exp_avg", "exp_avg_sq"], opt.StateNames);
    }

    [Fact]
    public void CaffeStyleAddsEpsilonBeforeTheBiasCorrection()
    {
        // A large epsilon makes the placement visible.
        var a = Param(W0);
        var b = Param(W0);
        Run(new Adam([a], learningRate: 0.01f, epsilon: 0.1f));
        Run(new Adam([b], learningRate: 0.01f, epsilon: 0.1f, style: AdamStyle.Caffe));
        AssertClose(Expected(0.01, 0.9, 0.999, 0.1, 0, decoupled: false), a);
        AssertClose(Expected(0.01, 0.9, 0.999, 0.1, 0, decoupled: false, caffeEps: true), b);
        AssertDiffer(a, b, 1e-5);
    }

    [Fact]
    public void AdamWDecaysTheWeightsDirectly()
    {
        var p = Param(W0);
        Run(new AdamW([p], learningRate: 0.05f, weightDecay: 0.5f));
        AssertClose(Expected(0.05, 0.9, 0.999, 1e-8, 0.5, decoupled: true), p);
    }

    [Fact]
    public void AdamWDiffersFromAdamWithTheSameDecay()
    {
        var a = Param(W0);
        var b = Param(W0);
        Run(new Adam([a], learningRate: 0.05f, weightDecay: 0.5f));
        Run(new AdamW([b], learningRate: 0.05f, weightDecay: 0.5f));
        AssertDiffer(a, b);
    }

    [Fact]
    public void AdamWL1AndMultipliers()
    {
        const double lr = 0.05, wd = 0.5;
        var p = Param(W0);
        p.LearningRateMultiplier = 2f;
        p.DecayMultiplier = 0.5f;
        Run(new AdamW([p], learningRate: (float)lr, weightDecay: (float)wd, regularization: Regularization.L1));

        double elr = lr * 2, ewd = wd * 0.5;
        double[] w = [.. W0], m = new double[3], v = new double[3];
        for (int s = 0; s < 3; s++)
        {
            int t = s + 1;
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                w[i] -= elr * ewd * Sign(w[i]);
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                w[i] -= elr / (1 - Math.Pow(0.9, t)) * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-8);
            }
        }
        AssertClose(w, p);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var p = Param(W0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta2: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], epsilon: -1f));
    }
}
