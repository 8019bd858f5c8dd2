using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class AdaGradTests
{
    [Fact]
    public void AdaGradMatchesTheFormula()
    {
        const double lr = 0.1, eps = 1e-8, wd = 0.05;
        var p = Param(W0);
        var opt = new AdaGrad([p], (float)lr, epsilon: (float)eps, weightDecay: (float)wd);
        Run(opt);

        double[] w = [.. W0], sum = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                sum[i] += g * g;
                w[i] -= lr * g / (Math.Sqrt(sum[i]) + eps);
            }
        AssertClose(w, p);
        AssertClose(sum, Tensor.FromArray(opt.State(p)["sum"], 3));
    }

    [Fact]
    public void InitialAccumulatorValueStartsTheSum()
    {
        const double lr = 0.1, eps = 1e-10, init = 0.5;
        var p = Param(W0);
        Run(new AdaGrad([p], (float)lr, initialAccumulatorValue: (float)init));

        double[] w = [.. W0], sum = [init, init, init];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                sum[i] += g * g;
                w[i] -= lr * g / (Math.Sqrt(sum[i]) + eps);
            }
        AssertClose(w, p);
    }
}
