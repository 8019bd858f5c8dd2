using Backprop.Nn;
using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

/// <summary>Behaviour shared by every optimizer through the base class.</summary>
public class OptimizerTests
{
    public static TheoryData<string> Kinds => ["sgd", "sgd-caffe", "adam", "adamw", "rmsprop", "adagrad", "adadelta"];

    private static Optimizer Make(string kind, IEnumerable<Parameter> ps) => kind switch
    {
        "sgd" => new Sgd(ps, 0.1f, momentum: 0.9f, weightDecay: 0.01f),
        "sgd-caffe" => new Sgd(ps, 0.1f, momentum: 0.9f, weightDecay: 0.01f, style: SgdMomentumStyle.Caffe),
        "adam" => new Adam(ps, 0.01f, weightDecay: 0.01f),
        "adamw" => new AdamW(ps, 0.01f),
        "rmsprop" => new RmsProp(ps, 0.01f, momentum: 0.5f, centered: true),
        "adagrad" => new AdaGrad(ps, 0.1f, initialAccumulatorValue: 0.1f),
        "adadelta" => new AdaDelta(ps, weightDecay: 0.01f),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ParametersWithoutGradientOrFrozenAreUntouched(string kind)
    {
        var trained = Param(W0);
        var noGrad = Param(W0);
        var frozen = new Parameter(Tensor.FromArray([1f, -2f, 0.5f], 3), requiresGrad: false);
        var opt = Make(kind, [trained, noGrad, frozen]);
        for (int s = 0; s < 3; s++)
        {
            SetGrad(trained, Grads[s]);
            SetGrad(frozen, Grads[s]);
            opt.Step();
        }
        AssertClose(W0, noGrad, 0, 0);
        AssertClose(W0, frozen, 0, 0);
        AssertDiffer(trained, noGrad);
        Assert.Equal(3, opt.State(trained).Step);
        Assert.Equal(0, opt.State(noGrad).Step);
        Assert.Equal(0, opt.State(frozen).Step);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void StepLeavesTheGradientUnchanged(string kind)
    {
        var p = Param(W0);
        var opt = Make(kind, [p]);
        SetGrad(p, Grads[0]);
        opt.Step();
        AssertClose(Grads[0], p.Grad!, 0, 0);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RestoringTheStateContinuesTheRun(string kind)
    {
        // Three steps in one go, against two steps, a snapshot into a fresh optimizer, and the third step.
        var whole = Param(W0);
        Run(Make(kind, [whole]));

        var first = Param(W0);
        var a = Make(kind, [first]);
        Run(a, 2);
        var second = Param(first.ToArray().Select(x => (double)x).ToArray());
        var b = Make(kind, [second]);
        var from = a.State(first);
        var to = b.State(second);
        Assert.Equal(from.Names, to.Names);
        Assert.Equal(a.StateNames, from.Names);
        for (int k = 0; k < from.Buffers.Count; k++) from.Buffers[k].CopyTo(to.Buffers[k], 0);
        to.Step = from.Step;
        SetGrad(second, Grads[2]);
        b.Step();
        AssertClose(whole.ToArray().Select(x => (double)x).ToArray(), second, 0, 0);
    }

    [Fact]
    public void ZeroGradSetsEveryGradientToNull()
    {
        var p = Param(W0);
        var q = Param(W0);
        var opt = new Sgd([p, q], 0.1f);
        SetGrad(p, Grads[0]);
        SetGrad(q, Grads[1]);
        opt.ZeroGrad();
        Assert.Null(p.Grad);
        Assert.Null(q.Grad);
    }

    [Fact]
    public void AMisshapedGradientThrowsAndChangesNothing()
    {
        var p = Param(W0);
        var q = Param(W0);
        var opt = new Sgd([p, q], 0.1f);
        SetGrad(p, Grads[0]);
        q.Grad = Tensor.FromArray([1f, 2f], 2);
        var e = Assert.Throws<InvalidOperationException>(opt.Step);
        Assert.Contains("parameter 1", e.Message);
        AssertClose(W0, p, 0, 0);
    }

    [Fact]
    public void ParameterListIsValidated()
    {
        var p = Param(W0);
        Assert.Throws<ArgumentException>(() => new Sgd([], 0.1f));
        var e = Assert.Throws<ArgumentException>(() => new Sgd([p, p], 0.1f));
        Assert.Contains("more than once", e.Message);
        Assert.Throws<ArgumentException>(() => new Sgd([p], 0.1f).State(Param(W0)));
    }

    [Fact]
    public void UnknownStateNameSaysWhatThereIs()
    {
        var p = Param(W0);
        var e = Assert.Throws<KeyNotFoundException>(() => new Adam([p]).State(p)["momentum"]);
        Assert.Contains("exp_avg", e.Message);
    }

    [Fact]
    public void WorksWithModuleParameters()
    {
        var net = new Sequential(new Doubler());
        var opt = new Sgd(net.Parameters(), 0.5f);
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        var loss = net.Forward(x).Sum();
        loss.Backward();
        opt.Step();
        // d(sum(s*x))/ds = sum(x) = 6; s = 2 - 0.5*6
        Assert.Equal(-1f, ((Doubler)net.NamedChildren()[0].Value).Scale.Item());
    }

    private sealed class Doubler : Module
    {
        public Doubler() => Scale = RegisterParameter("scale", new Parameter(Tensor.FromArray([2f], 1)));
        public Parameter Scale { get; }
        public override Tensor Forward(Tensor input) => input * Scale;
    }
}
