using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>The loss ops behind Caffe's loss layers: hand-worked values and gradient checks (every element, random upstream gradient).</summary>
public class CaffeLossOpTests(ITestOutputHelper output)
{
    [Fact]
    public void SoftmaxCrossEntropySumFloorsProbabilityAtFltMin()
    {
        // p(label 0) = e^-200 / (1 + e^-200) underflows to 0 in float; Caffe floors it at FLT_MIN: −log(FLT_MIN) = 87.3365.
        var x = Tensor.FromArray([0f, 200f], 1, 2);
        x.RequiresGrad = true;
        var loss = Backprop.Functional.SoftmaxCrossEntropySum(x, [0], minProbability: 1.17549435e-38f);
        Assert.Equal(87.336544f, loss.Item(), 4);
        loss.Backward();
        Assert.Equal([-1f, 1f], x.Grad!.ToArray());   // the floor leaves the gradient alone, as in Caffe
        // Without a floor the probability's logarithm is −∞.
        Assert.Equal(float.PositiveInfinity, Backprop.Functional.SoftmaxCrossEntropySum(x.Detach(), [0], minProbability: 0).Item());
    }

    [Fact]
    public void SoftmaxCrossEntropySumGradient()
    {
        var x = Leaf(new Generator(3), 2, 4, 3);
        GradientCheck.Check(xs => Backprop.Functional.SoftmaxCrossEntropySum(xs[0], [0, 3, 1, 2, -1, 3], 1, ignoreLabel: -1), [x], output, "softmax loss sum, axis 1, ignore -1");
    }

    [Fact]
    public void SigmoidCrossEntropyByHandAndGradient()
    {
        // x = [0, 2], t = [1, 0]: log 2 + log(1 + e²); the ignored third element adds nothing.
        var x = Tensor.FromArray([0f, 2f, 5f], 3);
        var loss = Backprop.Functional.SigmoidCrossEntropySum(x, Tensor.FromArray([1f, 0f, -1f], 3), ignoreLabel: -1);
        Assert.Equal((float)(Math.Log(2) + Math.Log(1 + Math.Exp(2))), loss.Item(), 5);
        // Large logits stay finite: x = −100, t = 1 costs 100.
        Assert.Equal(100f, Backprop.Functional.SigmoidCrossEntropySum(Tensor.FromArray([-100f], 1), Tensor.FromArray([1f], 1)).Item(), 3);
        var g = Leaf(new Generator(5), 3, 4);
        var t = Tensor.Rand(new Generator(6), 3, 4);
        GradientCheck.Check(xs => Backprop.Functional.SigmoidCrossEntropySum(xs[0], t), [g], output, "sigmoid cross-entropy sum");
    }

    [Fact]
    public void ContrastiveLossByHand()
    {
        // Row 0 similar, d² = 1; row 1 dissimilar, d = 5, margin 6: (6 − 5)² = 1; legacy: max(6 − 25, 0) = 0.
        var a = Tensor.FromArray([1f, 0f, 3f, 4f], 2, 2);
        var b = Tensor.Zeros(2, 2);
        var similar = Tensor.FromArray([1f, 0f], 2);
        Assert.Equal(2f, Backprop.Functional.ContrastiveLossSum(a, b, similar, margin: 6).Item(), 5);
        Assert.Equal(1f, Backprop.Functional.ContrastiveLossSum(a, b, similar, margin: 6, legacy: true).Item(), 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ContrastiveLossGradient(bool legacy)
    {
        var a = Leaf(new Generator(7), 6, 3);
        var b = Leaf(new Generator(8), 6, 3);
        var similar = Tensor.FromArray([1f, 0f, 0f, 1f, 0f, 0f], 6);
        // margin 2 (legacy: d² against 2) leaves some dissimilar rows inside the margin and some outside.
        GradientCheck.Check(xs => Backprop.Functional.ContrastiveLossSum(xs[0], xs[1], similar, 2f, legacy), [a, b], output, $"contrastive legacy={legacy}",
            step: 1e-3, threshold: 2e-2);
    }

    [Fact]
    public void HingeLossByHand()
    {
        // Label 0: 1 + s·x = [1 − 1, 1 − 1, 1 + 0.5] → [0, 0, 1.5]: L1 1.5, L2 2.25.
        var x = Tensor.FromArray([1f, -1f, 0.5f], 1, 3);
        Assert.Equal(1.5f, Backprop.Functional.HingeLossSum(x, [0]).Item(), 6);
        Assert.Equal(2.25f, Backprop.Functional.HingeLossSum(x, [0], squared: true).Item(), 6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HingeLossGradient(bool squared)
    {
        // Scores at multiples of 0.37 stay off the kinks at ±1.
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (i % 7 - 3) * 0.37f).ToArray(), 3, 4);
        x.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.HingeLossSum(xs[0], [1, 3, 0], squared), [x], output, $"hinge squared={squared}", step: 1e-3);
    }

    [Fact]
    public void InfogainLossByHandAndGradient()
    {
        // Scores [0, 0] give p = [0.5, 0.5]; label 0 with H row [1, 0.5]: −(1 + 0.5)·log 0.5.
        var h = Tensor.FromArray([1f, 0.5f, 0f, 1f], 2, 2);
        var loss = Backprop.Functional.InfogainLossSum(Tensor.Zeros(1, 2), [0], h);
        Assert.Equal((float)(1.5 * Math.Log(2)), loss.Item(), 5);
        var x = Leaf(new Generator(9), 2, 3, 2);
        var h3 = Tensor.Rand(new Generator(10), 3, 3);
        GradientCheck.Check(xs => Backprop.Functional.InfogainLossSum(xs[0], [0, 2, 1, 7], h3, 1, ignoreLabel: 7), [x], output, "infogain, axis 1, ignore 7");
    }

    [Fact]
    public void MultinomialLogisticFloorsAt1e20()
    {
        // Rows [0.25, 0.75] and [0, 1], labels 0: −log 0.25 − log 1e-20; the gradient −1/p uses the floor too.
        var p = Tensor.FromArray([0.25f, 0.75f, 0f, 1f], 2, 2);
        p.RequiresGrad = true;
        var loss = Backprop.Functional.MultinomialLogisticLossSum(p, [0, 0]);
        Assert.Equal((float)(Math.Log(4) + 20 * Math.Log(10)), loss.Item(), 4);
        loss.Backward();
        Assert.Equal(-4f, p.Grad![0, 0]);
        Assert.Equal(-1e20f, p.Grad[1, 0], 1e14f);
        Assert.Equal(0f, p.Grad[0, 1]);
        var q = Tensor.FromArray([0.2f, 0.5f, 0.3f, 0.6f, 0.1f, 0.3f], 2, 3);
        q.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.MultinomialLogisticLossSum(xs[0], [1, 0]), [q], output, "multinomial logistic", step: 1e-3);
    }
}
