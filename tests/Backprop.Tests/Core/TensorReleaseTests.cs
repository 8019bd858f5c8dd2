using Backprop.Autograd;
using Backprop.Nn;

namespace Backprop.Tests.Core;

/// <summary>Tensor.Release and Sequential's release of its intermediates: memory back to the pool early, never a stale read.</summary>
public class TensorReleaseTests
{
    private static readonly float[] Ones = [1f, 1f, 1f, 1f];

    [Fact]
    public void ReleasedMemoryServesTheNextResultAndReadingItThrows()
    {
        var x = Tensor.FromArray(Ones, 4);
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        using (pool.Scope())
        {
            var a = x * 2f;
            var view = a.Reshape(2, 2);
            a.Release();
            var b = x * 3f;
            Assert.Equal(4 * sizeof(float), pool.BytesAllocated);   // b took a's buffer
            Assert.Equal(new[] { 3f, 3f, 3f, 3f }, b.ToArray());
            foreach (var t in new[] { a, view })
            {
                var e = Assert.Throws<InvalidOperationException>(() => t.ToArray());
                Assert.Contains("Release", e.Message);
                Assert.Contains("released", t.ToString());
            }
            a.Release();   // twice: nothing more happens
            var c = x * 4f;
            Assert.Equal(8 * sizeof(float), pool.BytesAllocated);
            Assert.Equal(16f, c.Sum().Item());
        }
    }

    [Fact]
    public void ReleaseDoesNothingWhileAutogradRecords()
    {
        var w = new Parameter(Tensor.FromArray(Ones, 4));
        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            var a = w * 2f;
            var loss = (a * a).Sum();
            a.Release();   // the product's backward reads a
            loss.Backward();
            Assert.Equal(new[] { 2f, 2f, 2f, 2f }, a.ToArray());
        }
        Assert.Equal(new[] { 8f, 8f, 8f, 8f }, w.Grad!.ToArray());
    }

    [Fact]
    public void ReleaseDoesNothingForGcMemoryOrOffTheScopeThread()
    {
        var x = Tensor.FromArray(Ones, 4);
        using var noGrad = Autograd.Autograd.NoGrad();
        var outside = x * 2f;
        outside.Release();
        Assert.Equal(8f, outside.Sum().Item());
        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            var a = x * 2f;
            var other = new Thread(() => { using (Autograd.Autograd.NoGrad()) a.Release(); });
            other.Start();
            other.Join();
            var b = x * 3f;
            Assert.Equal(8f, a.Sum().Item());
            Assert.Equal(12f, b.Sum().Item());
        }
    }

    [Fact]
    public void ReleasingATensorWhoseBufferABackwardPassGaveBackLeavesTheBuffersNextTensorAlone()
    {
        var x = Tensor.FromArray(Ones, 4);
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        using (pool.Scope())
        {
            var gradient = x * 2f;
            Assert.True(pool.GiveBackEarly(gradient.Storage, 0));   // as GradientMemory does with a consumed gradient
            var next = x * 3f;                                      // lent the same buffer again
            Assert.Same(gradient.Storage, next.Storage);
            gradient.Release();                                     // must not give back next's lending
            var other = x * 5f;
            Assert.NotSame(next.Storage, other.Storage);
            Assert.Equal(new[] { 3f, 3f, 3f, 3f }, next.ToArray());
        }
    }

    private static Sequential Chain(Generator generator, int width, int layers)
    {
        var chain = new Sequential();
        for (int i = 0; i < layers; i++) chain.Add(new Linear(width, width, generator: generator)).Add(new Relu());
        return chain;
    }

    [Fact]
    public void SequentialUnderNoGradReusesTheMemoryOfItsIntermediates()
    {
        var generator = new Generator(3);
        var chain = Chain(generator, 64, 6);
        var x = Tensor.Randn(generator, 32, 64);
        var before = x.ToArray();
        var expected = chain.Forward(x).ToArray();
        long[] held = new long[2];
        foreach (bool grad in new[] { true, false })
        {
            var pool = new TensorMemoryPool();
            using (grad ? (NoGradScope?)null : Autograd.Autograd.NoGrad())
            using (pool.Scope())
            {
                Assert.Equal(expected, chain.Forward(x).ToArray());
                Assert.Equal(expected, chain.Forward(x).ToArray());   // a second pass of the scope on the given-back buffers
            }
            held[grad ? 0 : 1] = pool.BytesHeld / (32 * 64 * sizeof(float));
        }
        Assert.True(held[0] >= 12, $"with autograd on, each Linear+ReLU result stays lent ({held[0]} buffers)");
        Assert.True(held[1] <= 3, $"under no-grad, two buffers take turns plus the one returned ({held[1]} buffers)");
        Assert.Equal(before, x.ToArray());   // the chain's input is never released
    }

    [Fact]
    public void SequentialKeepsItsInputViewsOfItAndResultsSharingMemory()
    {
        var generator = new Generator(4);
        // Flatten's result is a view of the chain's input, then of the Linear's result; both must survive the next layer.
        var chain = new Sequential(new Flatten(), new Linear(12, 6, generator: generator), new Flatten(), new Linear(6, 2, generator: generator));
        var x = Tensor.Randn(generator, 5, 3, 2, 2);
        var before = x.ToArray();
        var expected = chain.Forward(x).ToArray();
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        using (pool.Scope())
        {
            Assert.Equal(expected, chain.Forward(x).ToArray());
            var lent = x * 1f;   // a chain input the scope lent is the caller's too
            Assert.Equal(expected, chain.Forward(lent).ToArray());
            Assert.Equal(before, lent.ToArray());
        }
        Assert.Equal(before, x.ToArray());
    }

    private sealed class KeepsInput : Module
    {
        public Tensor? Kept;

        public override Tensor Forward(Tensor input)
        {
            Kept = input;
            return input * 2f;
        }
    }

    [Fact]
    public void ALayerKeepingItsInputGetsAClearErrorNotStaleValues()
    {
        var keeper = new KeepsInput();
        var chain = new Sequential(new Relu(), keeper, new Relu());
        var x = Tensor.FromArray(Ones, 4);
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        using (pool.Scope())
        {
            Assert.Equal(new[] { 2f, 2f, 2f, 2f }, chain.Forward(x).ToArray());
            _ = x * 5f;   // may reuse the kept input's memory
            var e = Assert.Throws<InvalidOperationException>(() => keeper.Kept!.ToArray());
            Assert.Contains("Sequential", e.Message);
        }
    }
}
