using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class NAdamTests
{
    // From tests/Backprop.Tests/Optim/Fixtures/make_nadam_fixtures.py (torch.optim.NAdam, torch 1.13).
    private static readonly double[] TorchDefaultsWithDecay = [0.8258594274520874, -1.975281000137329, 0.3396221101284027];
    private static readonly double[] TorchKerasSettings = [0.839516818523407, -1.9888607263565063, 0.3382852077484131];

    /// <summary>
    /// NAdam's equations in a plain loop. <paramref name="torch113"/> reproduces PyTorch 1.13's slip, whose
    /// mu_product_next multiplies in mu twice (later PyTorch and Keras: P_t · mu_{t+1}).
    /// </summary>
    private static double[] Reference(double lr, double eps, double wd, double momentumDecay, bool torch113)
    {
        const double b1 = 0.9, b2 = 0.999;
        double[] w = [.. W0], m = new double[3], v = new double[3];
        double product = 1;
        for (int t = 1; t <= 3; t++)
        {
            double mu = b1 * (1 - 0.5 * Math.Pow(0.96, t * momentumDecay));
            double muNext = b1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * momentumDecay));
            product *= mu;
            double productNext = torch113 ? product * mu * muNext : product * muNext;
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[t - 1][i] + wd * w[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double denominator = Math.Sqrt(v[i] / (1 - Math.Pow(b2, t))) + eps;
                w[i] -= lr * (1 - mu) / (1 - product) * g / denominator + lr * muNext / (1 - productNext) * m[i] / denominator;
            }
        }
        return w;
    }

    [Fact]
    public void MatchesTheEquationsWithPyTorchDefaults()
    {
        var p = Param(W0);
        Run(new NAdam([p], 0.1f, weightDecay: 0.05f));
        AssertClose(Reference(0.1, 1e-8, 0.05, 0.004, torch113: false), p);
        // The same loop with PyTorch 1.13's slip gives its numbers: everything else (decay, eps, bias correction) agrees.
        AssertClose(TorchDefaultsWithDecay, Tensor.FromArray(Reference(0.1, 1e-8, 0.05, 0.004, torch113: true).Select(x => (float)x).ToArray(), 3));
        AssertDiffer(p, Tensor.FromArray(TorchDefaultsWithDecay.Select(x => (float)x).ToArray(), 3), 1e-4);
    }

    [Fact]
    public void MatchesTheEquationsWithKerasMomentumDecay()
    {
        var p = Param(W0);
        Run(new NAdam([p], 0.1f, epsilon: 1e-7f, momentumDecay: 1f));
        AssertClose(Reference(0.1, 1e-7, 0, 1, torch113: false), p);
        AssertClose(TorchKerasSettings, Tensor.FromArray(Reference(0.1, 1e-7, 0, 1, torch113: true).Select(x => (float)x).ToArray(), 3));
    }

    [Fact]
    public void RestoredStepGivesTheSameUpdateAsAnUninterruptedRun()
    {
        var straight = Param(W0);
        Run(new NAdam([straight], 0.1f));

        var first = Param(W0);
        var before = new NAdam([first], 0.1f);
        Run(before, steps: 2);
        var resumed = new NAdam([first], 0.1f);   // a fresh optimizer given the snapshot of the first
        var state = resumed.State(first);
        state.Step = 2;
        for (int b = 0; b < 2; b++) before.State(first).Buffers[b].CopyTo(state.Buffers[b], 0);
        SetGrad(first, Grads[2]);
        resumed.Step();
        AssertClose(straight.ToArray().Select(v => (double)v).ToArray(), first);
    }
}
