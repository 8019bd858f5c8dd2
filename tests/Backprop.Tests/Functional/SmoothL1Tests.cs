using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;
using F = Backprop.Functional;

namespace Backprop.Tests.FunctionalOps;

public class SmoothL1Tests(ITestOutputHelper output)
{
    // From tests/Backprop.Tests/Functional/Fixtures/make_smooth_l1_fixtures.py (torch.nn.functional.smooth_l1_loss).
    // torch 1.13.0a0, seed 9, beta = 1/9
    private static readonly float[] Input = [-0.064226955f, 0.019427992f, -0.13250764f, 0.05248839f, 0.09147624f, -0.03620888f, 0.03443886f, 0.020074606f, -0.031548165f, -0.06899239f, -0.1626042f, 0.11283388f];
    private static readonly float[] Target = [-0.003810579f, 0.20178619f, 0.06609746f, 0.022222443f, -0.052594483f, 0.111397535f, -0.04050313f, 0.12559593f, -0.0318689f, 0.014876314f, -0.12181363f, 0.18745859f];
    private static readonly float[] ExpectedNone = [0.016425624f, 0.12680265f, 0.14304954f, 0.004122124f, 0.08851516f, 0.092050865f, 0.02527336f, 0.050106373f, 4.6292305e-07f, 0.031652816f, 0.007487416f, 0.025059814f];
    private const float ExpectedSum = 0.6105462312698364f;
    private const float ExpectedMean = 0.0508788526058197f;
    private static readonly float[] ExpectedSumGradient = [-0.5437474f, -1.0f, -1.0f, 0.27239352f, 1.0f, -1.0f, 0.67447793f, -0.9496919f, 0.0028866269f, -0.7548183f, -0.36711508f, -0.6716224f];

    private const float Beta = 1f / 9f;

    [Fact]
    public void ReductionsMatchTorch()
    {
        var x = Tensor.FromArray(Input, 3, 4);
        var t = Tensor.FromArray(Target, 3, 4);
        var none = F.SmoothL1Loss(x, t, Beta, LossReduction.None);
        Assert.Equal(new Shape(3, 4), none.Shape);
        AssertClose(ExpectedNone, none.ToArray(), 2e-6, "reduction none");
        Assert.Equal(ExpectedSum, F.SmoothL1Loss(x, t, Beta, LossReduction.Sum).Item(), 5);
        Assert.Equal(ExpectedMean, F.SmoothL1Loss(x, t, Beta, LossReduction.Mean).Item(), 6);
        Assert.Equal(ExpectedMean, F.SmoothL1Loss(x, t, Beta).Item(), 6);   // the original overload is the mean
        Assert.Equal(ExpectedSum, new Backprop.Nn.SmoothL1Loss(Beta, LossReduction.Sum).Forward(x, t).Item(), 5);
    }

    [Fact]
    public void SumGradientMatchesTorch()
    {
        var x = Tensor.FromArray(Input, 3, 4);
        x.RequiresGrad = true;
        var loss = F.SmoothL1Loss(x, Tensor.FromArray(Target, 3, 4), Beta, LossReduction.Sum);
        Assert.Equal("SmoothL1LossBackward", loss.GradFn!.Name);
        loss.Backward();
        AssertClose(ExpectedSumGradient, x.Grad!.ToArray(), 1e-5, "d sum / d input");
    }

    [Fact]
    public void InsideAndOutsideWeightsByHand()
    {
        // d = inside·(x − t) = [0.5, 2, 1, 0]; with β = 1: l = [0.125, 1.5, 0.5 (|d| = β is the linear side), 0];
        // outside·l = [0.25, 1.5, 1.5, 0]: sum 3.25, mean 0.8125.
        var x = Tensor.FromArray([1f, 2f, 0.5f, -3f]);
        var t = Tensor.Zeros(4);
        x.RequiresGrad = true;
        t.RequiresGrad = true;
        var inside = Tensor.FromArray([0.5f, 1f, 2f, 0f]);
        var outside = Tensor.FromArray([2f, 1f, 3f, 5f]);
        inside.RequiresGrad = true;
        outside.RequiresGrad = true;
        Assert.Equal(new[] { 0.25f, 1.5f, 1.5f, 0f }, F.SmoothL1Loss(x, t, 1f, LossReduction.None, inside, outside).ToArray());
        Assert.Equal(0.8125f, F.SmoothL1Loss(x, t, 1f, LossReduction.Mean, inside, outside).Item());
        var sum = F.SmoothL1Loss(x, t, 1f, LossReduction.Sum, inside, outside);
        Assert.Equal(3.25f, sum.Item());
        // d sum / dx = outside·inside·(d/β or sign d) = [2·0.5·0.5, 1·1·1, 3·2·1, 5·0·0]; the target gets the negation.
        sum.Backward();
        Assert.Equal(new[] { 0.5f, 1f, 6f, 0f }, x.Grad!.ToArray());
        Assert.Equal(new[] { -0.5f, -1f, -6f, -0f }, t.Grad!.ToArray());
        Assert.Null(inside.Grad);
        Assert.Null(outside.Grad);
    }

    [Fact]
    public void BetaIsOneOverSigmaSquaredOfPyFasterRcnn()
    {
        // py-faster-rcnn: 0.5·(σ·d)² where |d| < 1/σ², else |d| − 0.5/σ², times the outside weight, summed.
        const double sigma = 3;
        var g = new Generator(31);
        var x = Tensor.Normal(g, 0, 0.2f, 4, 8);
        var t = Tensor.Normal(g, 0, 0.2f, 4, 8);
        var inside = Tensor.Uniform(g, 0, 2, 4, 8);
        var outside = Tensor.Uniform(g, 0, 2, 4, 8);
        float[] xs = x.ToArray(), ts = t.ToArray(), wi = inside.ToArray(), wo = outside.ToArray();
        double expected = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double d = wi[i] * ((double)xs[i] - ts[i]);
            double l = Math.Abs(d) < 1 / (sigma * sigma) ? 0.5 * sigma * sigma * d * d : Math.Abs(d) - 0.5 / (sigma * sigma);
            expected += wo[i] * l;
        }
        float loss = F.SmoothL1Loss(x, t, (float)(1 / (sigma * sigma)), LossReduction.Sum, inside, outside).Item();
        Assert.Equal(expected, loss, 1e-5 * Math.Max(1, Math.Abs(expected)));
    }

    [Theory]
    [InlineData(LossReduction.Sum)]
    [InlineData(LossReduction.Mean)]
    [InlineData(LossReduction.None)]
    public void GradientCheckWithWeights(LossReduction reduction)
    {
        // d = inside·(x − t) kept away from 0 and ±β: half in (0.04, 0.07) (quadratic side), half in (0.16, 0.5).
        var g = new Generator(32);
        var t = Leaf(g, 3, 6);
        var inside = Tensor.Uniform(g, 0.5f, 2f, 3, 6);
        var outside = Tensor.Uniform(g, 0.5f, 2f, 3, 6);
        var w = inside.ToArray();
        var x = t.Detach().Clone();
        var xd = x.AsSpan();
        for (int i = 0; i < xd.Length; i++)
        {
            float d = i % 2 == 0 ? 0.04f + 0.03f * g.NextFloat() : 0.16f + 0.34f * g.NextFloat();
            xd[i] += (g.NextFloat() < 0.5f ? -d : d) / w[i];
        }
        x.RequiresGrad = true;
        GradientCheck.Check(v => F.SmoothL1Loss(v[0], v[1], Beta, reduction, inside, outside), [x, t], output,
            $"smooth L1 beta=1/9 {reduction} with weights", ["input", "target"], step: 1e-3);
    }

    [Fact]
    public void BetaZeroIsWeightedL1()
    {
        var g = new Generator(33);
        var x = AwayFrom(g, 0f, 0.05f, 2, 5);
        var t = Tensor.Zeros(2, 5);
        var outside = Tensor.Uniform(g, 0.5f, 2f, 2, 5);
        float expected = 0;
        float[] xs = x.ToArray(), wo = outside.ToArray();
        for (int i = 0; i < xs.Length; i++) expected += wo[i] * MathF.Abs(xs[i]);
        Assert.Equal(expected, F.SmoothL1Loss(x, t, 0f, LossReduction.Sum, null, outside).Item(), 5);
        GradientCheck.Check(v => F.SmoothL1Loss(v[0], t, 0f, LossReduction.Sum, null, outside), [x], output, "smooth L1 beta=0 sum", ["input"]);
    }

    [Fact]
    public void ErrorsSayWhat()
    {
        var x = Tensor.Zeros(2, 3);
        var e = Assert.Throws<ArgumentException>(() => F.SmoothL1Loss(x, x, Beta, LossReduction.Sum, Tensor.Zeros(3, 2)));
        Assert.Contains("insideWeights of shape (3, 2)", e.Message);
        var o = Assert.Throws<ArgumentException>(() => F.SmoothL1Loss(x, x, Beta, LossReduction.Sum, null, Tensor.Zeros(6)));
        Assert.Contains("outsideWeights of shape (6,)", o.Message);
        Assert.Throws<ArgumentException>(() => F.SmoothL1Loss(x, x, -1f, LossReduction.Sum));
        Assert.Throws<ArgumentException>(() => F.SmoothL1Loss(x, x, float.NaN, LossReduction.Sum));
    }
}
