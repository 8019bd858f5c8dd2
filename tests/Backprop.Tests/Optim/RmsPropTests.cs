using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class RmsPropTests
{
    [Fact]
    public void PlainRmsPropIsAlsoCaffesRule()
    {
        // Caffe: history = rms_decay*history + (1-rms_decay)*g^2; w -= lr*g/(sqrt(history)+delta).
        const double lr = 0.01, decay = 0.98, delta = 1e-8, wd = 0.05;
        var p = Param(W0);
        var opt = new RmsProp([p], (float)lr, alpha: (float)decay, epsilon: (float)delta, weightDecay: (float)wd);
        Run(opt);

        double[] w = [.. W0], h = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                h[i] = decay * h[i] + (1 - decay) * g * g;
                w[i] -= lr * g / (Math.Sqrt(h[i]) + delta);
            }
        AssertClose(w, p);
        Assert.Equal(["square_avg"], opt.StateNames);
    }

    [Fact]
    public void MomentumAndCentered()
    {
        const double lr = 0.01, a = 0.99, eps = 1e-8, mom = 0.9;
        var p = Param(W0);
        var opt = new RmsProp([p], (float)lr, momentum: (float)mom, centered: true);
        Run(opt);

        double[] w = [.. W0], v = new double[3], avg = new double[3], buf = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                v[i] = a * v[i] + (1 - a) * g * g;
                avg[i] = a * avg[i] + (1 - a) * g;
                double d = Math.Sqrt(v[i] - avg[i] * avg[i]) + eps;
                buf[i] = mom * buf[i] + g / d;
                w[i] -= lr * buf[i];
            }
        // The centered root subtracts nearly equal numbers, so float rounding is amplified.
        AssertClose(w, p, rtol: 2e-5);
        Assert.Equal(["square_avg", "momentum_buffer", "grad_avg"], opt.StateNames);
    }
}
