using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class AdaDeltaTests
{
    [Theory]
    [InlineData(1.0, 0.9, 1e-6, 0.0)]    // PyTorch's defaults
    [InlineData(1.0, 0.95, 1e-6, 0.01)]  // Caffe's AdaDelta example: momentum 0.95, delta 1e-6, base_lr 1
    [InlineData(0.5, 0.9, 1e-2, 0.0)]
    public void AdaDeltaMatchesTheFormula(double lr, double rho, double eps, double wd)
    {
        var p = Param(W0);
        var opt = new AdaDelta([p], (float)lr, rho: (float)rho, epsilon: (float)eps, weightDecay: (float)wd);
        Run(opt);

        double[] w = [.. W0], v = new double[3], u = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                v[i] = rho * v[i] + (1 - rho) * g * g;
                double d = Math.Sqrt(u[i] + eps) / Math.Sqrt(v[i] + eps) * g;
                u[i] = rho * u[i] + (1 - rho) * d * d;
                w[i] -= lr * d;
            }
        AssertClose(w, p);
        AssertClose(u, Tensor.FromArray(opt.State(p)["acc_delta"], 3), rtol: 1e-5, atol: 1e-12);
        Assert.Equal(["square_avg", "acc_delta"], opt.StateNames);
    }
}
