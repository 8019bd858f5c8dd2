using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class SgdTests
{
    [Fact]
    public void PlainSgdSubtractsRateTimesGradient()
    {
        var p = Param(W0);
        Run(new Sgd([p], learningRate: 0.1f));
        double[] w = [.. W0];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++) w[i] -= 0.1 * Grads[s][i];
        AssertClose(w, p);
    }

    [Fact]
    public void PyTorchMomentumWithL2Decay()
    {
        const double lr = 0.1, m = 0.9, wd = 0.01;
        var p = Param(W0);
        Run(new Sgd([p], (float)lr, momentum: (float)m, weightDecay: (float)wd));

        double[] w = [.. W0], v = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                v[i] = s == 0 ? g : m * v[i] + g;
                w[i] -= lr * v[i];
            }
        AssertClose(w, p);
    }

    [Fact]
    public void PyTorchMomentumWithDampening()
    {
        const double lr = 0.1, m = 0.9, d = 0.3;
        var p = Param(W0);
        Run(new Sgd([p], (float)lr, momentum: (float)m, dampening: (float)d));

        double[] w = [.. W0], v = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                v[i] = s == 0 ? g : m * v[i] + (1 - d) * g;
                w[i] -= lr * v[i];
            }
        AssertClose(w, p);
    }

    [Fact]
    public void PyTorchNesterov()
    {
        const double lr = 0.1, m = 0.9, wd = 0.01;
        var p = Param(W0);
        Run(new Sgd([p], (float)lr, momentum: (float)m, weightDecay: (float)wd, nesterov: true));

        double[] w = [.. W0], v = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                v[i] = s == 0 ? g : m * v[i] + g;
                w[i] -= lr * (g + m * v[i]);
            }
        AssertClose(w, p);
    }

    [Fact]
    public void CaffeMomentumWithL2Decay()
    {
        const double lr = 0.1, m = 0.9, wd = 0.01;
        var p = Param(W0);
        var opt = new Sgd([p], (float)lr, momentum: (float)m, weightDecay: (float)wd, style: SgdMomentumStyle.Caffe);
        Run(opt);

        double[] w = [.. W0], v = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                v[i] = m * v[i] + lr * g;
                w[i] -= v[i];
            }
        AssertClose(w, p);
        AssertClose(v, Tensor.FromArray(opt.State(p)["momentum"], 3));
    }

    [Fact]
    public void CaffeNesterov()
    {
        const double lr = 0.1, m = 0.9, wd = 0.01;
        var p = Param(W0);
        Run(new Sgd([p], (float)lr, momentum: (float)m, weightDecay: (float)wd, nesterov: true, style: SgdMomentumStyle.Caffe));

        double[] w = [.. W0], v = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i] + wd * w[i];
                double old = v[i];
                v[i] = m * old + lr * g;
                w[i] -= (1 + m) * v[i] - m * old;
            }
        AssertClose(w, p);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CaffeAndPyTorchStylesAgreeAtConstantRate(bool nesterov)
    {
        var a = Param(W0);
        var b = Param(W0);
        Run(new Sgd([a], 0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: nesterov, style: SgdMomentumStyle.PyTorch));
        Run(new Sgd([b], 0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: nesterov, style: SgdMomentumStyle.Caffe));
        AssertClose(a.ToArray().Select(x => (double)x).ToArray(), b);
    }

    [Fact]
    public void CaffeAndPyTorchStylesDifferWhenTheRateChanges()
    {
        double[] rates = [0.1, 0.05, 0.02];
        const double m = 0.9;
        var a = Param(W0);
        var b = Param(W0);
        float[] fr = [.. rates.Select(r => (float)r)];
        Run(new Sgd([a], fr[0], momentum: (float)m, style: SgdMomentumStyle.PyTorch), rates: fr);
        Run(new Sgd([b], fr[0], momentum: (float)m, style: SgdMomentumStyle.Caffe), rates: fr);

        double[] wp = [.. W0], vp = new double[3], wc = [.. W0], vc = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                double g = Grads[s][i];
                vp[i] = s == 0 ? g : m * vp[i] + g;   // rate outside: the new rate scales all history
                wp[i] -= rates[s] * vp[i];
                vc[i] = m * vc[i] + rates[s] * g;     // rate inside: history keeps the old rates
                wc[i] -= vc[i];
            }
        AssertClose(wp, a);
        AssertClose(wc, b);
        AssertDiffer(a, b);
    }

    [Fact]
    public void L1DecayAddsSignOfWeights()
    {
        const double lr = 0.1, wd = 0.5;
        double[] w0 = [1.0, -2.0, 0.0]; // sign(0) = 0: the zero weight gets no decay on the first step
        var p = Param(w0);
        Run(new Sgd([p], (float)lr, weightDecay: (float)wd, regularization: Regularization.L1));

        double[] w = [.. w0];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++) w[i] -= lr * (Grads[s][i] + wd * Sign(w[i]));
        AssertClose(w, p);
    }

    [Fact]
    public void LearningRateAndDecayMultipliersScaleEachParameter()
    {
        const double lr = 0.1, m = 0.9, wd = 0.1;
        var weight = Param(W0);
        var bias = Param(W0);
        bias.LearningRateMultiplier = 2f; // Caffe's usual bias setting: lr_mult 2, decay_mult 0
        bias.DecayMultiplier = 0f;
        weight.DecayMultiplier = 0.5f;
        var opt = new Sgd([weight, bias], (float)lr, momentum: (float)m, weightDecay: (float)wd, style: SgdMomentumStyle.Caffe);
        for (int s = 0; s < 3; s++)
        {
            SetGrad(weight, Grads[s]);
            SetGrad(bias, Grads[s]);
            opt.Step();
        }

        double[] ww = [.. W0], vw = new double[3], wb = [.. W0], vb = new double[3];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 3; i++)
            {
                vw[i] = m * vw[i] + lr * 1 * (Grads[s][i] + wd * 0.5 * ww[i]);
                ww[i] -= vw[i];
                vb[i] = m * vb[i] + lr * 2 * (Grads[s][i] + wd * 0 * wb[i]);
                wb[i] -= vb[i];
            }
        AssertClose(ww, weight);
        AssertClose(wb, bias);
    }

    [Fact]
    public void PyTorchWithoutMomentumKeepsNoBuffer()
    {
        var p = Param(W0);
        var opt = new Sgd([p], 0.1f);
        Run(opt, 1);
        Assert.Empty(opt.StateNames);
        Assert.Equal(1, opt.State(p).Step);
        Assert.Equal(["momentum"], new Sgd([p], 0.1f, style: SgdMomentumStyle.Caffe).StateNames);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var p = Param(W0);
        Assert.Throws<ArgumentException>(() => new Sgd([p], 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd([p], 0.1f, momentum: 0.9f, nesterov: true, dampening: 0.1f));
        Assert.Throws<ArgumentException>(() => new Sgd([p], 0.1f, momentum: 0.9f, dampening: 0.1f, style: SgdMomentumStyle.Caffe));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], 0.1f, momentum: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], 0.1f, weightDecay: -1f));
    }

    [Fact]
    public void ToStringShowsNonDefaultArguments()
    {
        var opt = new Sgd([Param(W0)], 0.01f, momentum: 0.9f, weightDecay: 0.0005f, style: SgdMomentumStyle.Caffe);
        Assert.Equal("Sgd(lr=0.01, weight_decay=0.0005, momentum=0.9, style=Caffe)", opt.ToString());
    }
}
