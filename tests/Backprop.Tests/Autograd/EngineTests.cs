using Backprop.Nn;
using AG = Backprop.Autograd.Autograd;

namespace Backprop.Tests.AutogradEngine;

public class EngineTests
{
    private static Tensor Leaf(params float[] values)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void GradientsOfAReusedInputAdd()
    {
        var x = Leaf(2, 3);
        var y = (x * x + x * 3).Sum();   // d/dx = 2x + 3
        y.Backward();
        Assert.Equal(new float[] { 7, 9 }, x.Grad!.ToArray());
    }

    [Fact]
    public void GradientsAccumulateUntilCleared()
    {
        var x = Leaf(1, 2);
        (x * 2).Sum().Backward();
        (x * 3).Sum().Backward();
        Assert.Equal(new float[] { 5, 5 }, x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void SecondBackwardThroughAFreedGraphIsAClearError()
    {
        var x = Leaf(1, 2);
        var y = (x * x).Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("retainGraph", e.Message);
    }

    [Fact]
    public void RetainGraphAllowsASecondBackward()
    {
        var x = Leaf(1, 2);
        var y = (x * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(new float[] { 4, 8 }, x.Grad!.ToArray());
    }

    [Fact]
    public void NonScalarOutputNeedsAGradient()
    {
        var x = Leaf(1, 2, 3);
        var y = x * 2;
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("(3,)", e.Message);
        y.Backward(Tensor.FromArray([1, 10, 100], 3));
        Assert.Equal(new float[] { 2, 20, 200 }, x.Grad!.ToArray());
        Assert.Throws<ArgumentException>(() => (x * 2).Backward(Tensor.Ones(2)));
    }

    [Fact]
    public void NoGradAndDetachRecordNothing()
    {
        var x = Leaf(1, 2);
        using (AG.NoGrad())
        {
            var y = x * 2;
            Assert.Null(y.GradFn);
            Assert.False(y.RequiresGrad);
        }
        Assert.True(AG.IsGradEnabled);
        var d = (x * 2).Detach();
        Assert.True(d.IsLeaf);
        Assert.False(d.RequiresGrad);
        var plain = Tensor.Ones(2) * 3;
        Assert.Null(plain.GradFn);
        var e = Assert.Throws<InvalidOperationException>(() => plain.Sum().Backward());
        Assert.Contains("does not require a gradient", e.Message);
    }

    [Fact]
    public void RequiresGradIsSettableOnLeavesOnly()
    {
        var x = Leaf(1);
        var y = x * 2;
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
    }

    [Fact]
    public void TheEngineIsIterativeForVeryDeepGraphs()
    {
        var x = Leaf(1);
        Tensor y = x;
        for (int i = 0; i < 100_000; i++) y = y + 1;
        y.Sum().Backward();
        Assert.Equal(1f, x.Grad!.Item());
        Assert.Equal(100_002, AG.LastBackwardNodeCount);   // 100000 adds, the sum, AccumulateGrad
    }

    [Fact]
    public void GradientStopsAtBranchesThatNeedNone()
    {
        var w = Leaf(2);
        var c = Tensor.FromArray([5], 1);
        var y = (w * c + c.Exp()).Sum();
        y.Backward();
        Assert.Equal(5f, w.Grad!.Item());
        Assert.Null(c.Grad);
        // Nodes: Sum, Add, Mul, AccumulateGrad(w); Exp of a constant records nothing.
        Assert.Equal(4, AG.LastBackwardNodeCount);
    }

    [Fact]
    public void DotUsesPyTorchNodeNamesAndParameterNames()
    {
        var net = new Sequential(new Conv2d(1, 2, 3, generator: new Generator(1)), new Relu(), new Flatten(), new Linear(2 * 3 * 3, 2, generator: new Generator(2)));
        var x = Tensor.Randn(new Generator(3), 2, 1, 5, 5);
        var loss = Functional.CrossEntropy(net.Forward(x), [0, 1]);
        string dot = net.ToDot(loss);
        Assert.StartsWith("digraph", dot);
        // Sequential runs the Conv2d, Relu pair as one op (Conv2d.ForwardRelu), and cross-entropy is one op: each is
        // drawn as the two PyTorch nodes it stands for, joined by a dashed "fused" edge.
        foreach (var name in new[] { "\"ConvolutionBackward0\"", "\"ReluBackward0\"", "\"ViewBackward0\"", "\"AddmmBackward0\"", "\"LogSoftmaxBackward0\"",
                                     "\"NllLossBackward0\"", "label=\"fused\"", "AccumulateGrad", "0.weight", "3.bias" })
            Assert.Contains(name, dot);
        Assert.DoesNotContain("ConvolutionReluBackward", dot);
        Assert.DoesNotContain("dir=back", dot);
        Assert.Equal(dot.Count(ch => ch == '{'), dot.Count(ch => ch == '}'));
    }

    [Fact]
    public void DotRunsFromParametersDownToTheOutputAsTorchvizDraws()
    {
        var w = Tensor.Randn(new Generator(4), 3, 2);
        w.RequiresGrad = true;
        var frozen = Tensor.Randn(new Generator(5), 3, 2);
        var loss = (w * frozen).Sum();
        var lines = AG.ToDot(loss, [new("w", w), new("frozen", frozen)], showFrozen: true).Split('\n');
        string Id(string label) => lines.First(l => l.Contains($"label=\"{label}", StringComparison.Ordinal)).Trim().Split(' ')[0];
        string sum = Id("SumBackward0"), mul = Id("MulBackward0"), accumulate = Id("AccumulateGrad"), leaf = Id("w\\n");
        // Edges point from inputs to the op that uses them: leaf -> AccumulateGrad -> Mul -> Sum -> output.
        Assert.Contains($"  {leaf} -> {accumulate};", lines);
        Assert.Contains($"  {accumulate} -> {mul};", lines);
        Assert.Contains($"  {mul} -> {sum};", lines);
        Assert.Contains($"  {sum} -> output;", lines);
        Assert.Contains(lines, l => l.Contains("frozen\\n(3, 2)\\n(frozen, no gradient)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("(frozen, no gradient)") && l.Contains("label=\"w\\n"));
    }
}
