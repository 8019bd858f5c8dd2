using Backprop.Nn;
using Backprop.Optim;
using Filters;

namespace Backprop.Tests.Core;

public class TensorMemoryPoolTests
{
    private static float[] Train(int steps, TensorMemoryPool? pool)
    {
        var generator = new Generator(7);
        var net = new FilterNet(generator);
        var optimizer = new Sgd(net.Parameters(), learningRate: 0.02f, momentum: 0.9f, weightDecay: 1e-3f);
        for (int step = 0; step < steps; step++)
        {
            using var scope = pool?.Scope();
            var (images, labels) = BarsAndEdges.Generate(16 + step % 3, generator);   // batch sizes vary: buffers of several sizes
            optimizer.ZeroGrad();
            var logits = net.Forward(images);
            var loss = Functional.CrossEntropy(logits, labels) + Functional.MseLoss(Functional.Softmax(logits, 1), Tensor.Zeros(logits.Shape.ToArray())) * 0.1f;
            loss.Backward();
            optimizer.Step();
        }
        return net.Parameters().SelectMany(p => p.ToArray()).ToArray();
    }

    [Fact]
    public void TrainingInScopesGivesBitIdenticalWeights()
    {
        // Reused buffers are not cleared: any op that read a stale value would change the weights.
        var pool = new TensorMemoryPool();
        Assert.Equal(Train(12, null), Train(12, pool));
        Assert.Equal(12, pool.Steps);
    }

    [Fact]
    public void SteadyStepsAllocateNothingNew()
    {
        var generator = new Generator(1);
        var w = new Parameter(Tensor.Randn(generator, 8, 3, 3, 3));
        var x = Tensor.Randn(generator, 4, 3, 10, 10);
        var pool = new TensorMemoryPool();
        long afterFirst = 0;
        for (int step = 0; step < 5; step++)
        {
            using (pool.Scope())
                Functional.Relu(Functional.MaxPool2d(Functional.Conv2d(x, w), 2, 2)).Sum().Backward();
            if (step == 0) afterFirst = pool.BytesAllocated;
        }
        Assert.True(afterFirst > 4 * 8 * 8 * 8 * 4, $"the first step should have taken its buffers from the pool ({afterFirst} bytes)");
        Assert.Equal(afterFirst, pool.BytesAllocated);
        Assert.Equal(afterFirst, pool.BytesHeld);
    }

    [Fact]
    public void ResultsKeptPastTheirScopeThrowOnRead()
    {
        var x = Tensor.Randn(new Generator(2), 2, 3);
        var pool = new TensorMemoryPool();
        Tensor y, view, detached, kept;
        using (pool.Scope())
        {
            y = Functional.Relu(x * 2f);
            view = y.Reshape(6);
            detached = y.Detach();
            kept = y.Clone();
            Assert.Equal(y.ToArray(), kept.ToArray());
        }
        foreach (var t in new[] { y, view, detached })
        {
            var e = Assert.Throws<InvalidOperationException>(() => t.ToArray());
            Assert.Contains("TensorMemoryPool", e.Message);
            Assert.Contains("Clone()", e.Message);
            Assert.Contains("released", t.ToString());
        }
        Assert.Equal(6, kept.ToArray().Length);
        Assert.Equal(x.Length, x.ToArray().Length);   // inputs made outside the scope are untouched
    }

    [Fact]
    public void FactoriesAndLeafGradientsNeverComeFromThePool()
    {
        var w = new Parameter(Tensor.Ones(3));
        var pool = new TensorMemoryPool();
        Tensor zeros;
        using (pool.Scope())
        {
            zeros = Tensor.Zeros(2, 2);
            (w * 3f).Sum().Backward();
        }
        Assert.Equal(new float[4], zeros.ToArray());
        Assert.Equal(new[] { 3f, 3f, 3f }, w.Grad!.ToArray());
    }

    [Fact]
    public void ScopesOfOnePoolDoNotNestButPoolsDo()
    {
        var outer = new TensorMemoryPool();
        var inner = new TensorMemoryPool();
        var x = Tensor.Ones(4);
        using (outer.Scope())
        {
            Assert.Throws<InvalidOperationException>(() => outer.Scope());
            Tensor a = x * 2f, b;
            using (inner.Scope()) b = x * 3f;
            Assert.Throws<InvalidOperationException>(() => b.ToArray());
            Assert.Equal(new[] { 2f, 2f, 2f, 2f }, a.ToArray());
            Tensor c = x * 4f;   // served by the outer pool again
            Assert.True(outer.InScope);
            Assert.Equal(16f, c.Sum().Item());
        }
        Assert.False(outer.InScope);
        Assert.Equal(1, inner.Steps);
    }

    [Fact]
    public void ScopesEndInReverseOrder()
    {
        var first = new TensorMemoryPool();
        var second = new TensorMemoryPool();
        var a = first.Scope();
        var b = second.Scope();
        Assert.Throws<InvalidOperationException>(() => a.Dispose());
        b.Dispose();
        a.Dispose();
        Assert.False(first.InScope);
    }

    [Fact]
    public void ZeroGradInPlaceKeepsTheGradientMemory()
    {
        var w = new Parameter(Tensor.Ones(3));
        (w * 2f).Sum().Backward();
        var grad = w.Grad!;
        w.ZeroGrad(setToNone: false);
        Assert.Equal(new float[3], grad.ToArray());
        (w * 5f).Sum().Backward();
        Assert.Same(grad, w.Grad);
        Assert.Equal(new[] { 5f, 5f, 5f }, grad.ToArray());
        w.ZeroGrad();
        Assert.Null(w.Grad);
    }

    [Fact]
    public void EmptyComesFromThePoolInsideAScope()
    {
        var outside = Tensor.Empty(2, 3);
        outside.AsSpan().Fill(1f);
        Assert.Equal(6f, outside.Sum().Item());
        var pool = new TensorMemoryPool();
        Tensor inside;
        using (pool.Scope())
        {
            inside = Tensor.Empty(4, 5);
            Assert.Equal(new Shape(4, 5), inside.Shape);
        }
        Assert.Equal(4 * 5 * sizeof(float), pool.BytesAllocated);
        Assert.Throws<InvalidOperationException>(() => inside.ToArray());
    }
}
