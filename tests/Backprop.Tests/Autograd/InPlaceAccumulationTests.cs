namespace Backprop.Tests.AutogradTests;

/// <summary>
/// Inside a pool scope the engine sums a node's second gradient into the first one's buffer when only the engine holds
/// that buffer (a ResNet block's input: the shortcut's and the branch's gradients). The bits are those of a new sum,
/// one buffer less is taken, and buffers anyone else can see (the caller's gradient, gradients shared by several
/// nodes, views of them) are never written.
/// </summary>
public class InPlaceAccumulationTests
{
    private const int Width = 1 << 14;

    // h's gradient comes from two nodes (Tanh's and Mul's), each a fresh tensor: the case the engine adds in place.
    private static Tensor TwoBranches(Tensor x)
    {
        var h = Backprop.Functional.Tanh(x);
        return (Backprop.Functional.Tanh(h) * Backprop.Functional.Sigmoid(h)).Sum();
    }

    [Fact]
    public void TheSumInPlaceHasTheBitsOfANewSum()
    {
        var x = Tensor.Randn(new Generator(91), 1, Width);
        x.RequiresGrad = true;
        TwoBranches(x).Backward();   // no scope: every sum into a new tensor
        var expected = x.Grad!.ToArray();
        x.Grad = null;

        var pool = new TensorMemoryPool();
        for (int step = 0; step < 3; step++)   // later steps reuse the pool's buffers, holding last step's values
        {
            using (pool.Scope()) TwoBranches(x).Backward();
            Assert.Equal(expected, x.Grad!.ToArray());
            x.Grad = null;
        }
    }

    [Fact]
    public void AResidualChainSumsInPlaceWithTheBitsOfNewSums()
    {
        // Each block's input gets the gradient of Tanh's node (through the block) and of the Mul by a constant
        // (a fresh tensor, not a pass-through as Add's): the engine adds one into the other.
        var scale = Tensor.Full(0.5f, 1, Width);
        static Tensor Chain(Tensor x, Tensor scale)
        {
            var h = x;
            for (int i = 0; i < 8; i++) h = Backprop.Functional.Tanh(Backprop.Functional.Tanh(h)) * scale + h * scale;
            return h.Sum();
        }
        var x = Tensor.Randn(new Generator(92), 1, Width);
        x.RequiresGrad = true;
        Chain(x, scale).Backward();
        var expected = x.Grad!.ToArray();
        x.Grad = null;

        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            var loss = Chain(x, scale);
            loss.Backward();
        }
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    [Fact]
    public void TheCallersGradientIsNeverWritten()
    {
        // out = reshape(h) + tanh(h): h's node gets a view of the caller's gradient (through Add and the reshape) and
        // Tanh's gradient; the sum must not land in the caller's tensor, lent by the same scope before the pass.
        var x = Tensor.Randn(new Generator(93), 4, Width / 4);
        x.RequiresGrad = true;
        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            var h = Backprop.Functional.Tanh(x);
            var output = h.Reshape(Width) + Backprop.Functional.Tanh(h).Reshape(Width);
            var upstream = Tensor.Empty(Width);   // from the pool
            for (int i = 0; i < Width; i++) upstream[i] = (i % 7) - 3f;
            var before = upstream.ToArray();
            output.Backward(upstream);
            Assert.Equal(before, upstream.ToArray());
        }
    }

    [Fact]
    public void AGradientSharedByTwoNodesIsNotWritten()
    {
        // a + a passes the same gradient to both edges of a; b = a * 2 adds a third. Summing into the shared buffer
        // would change the gradient another waiting node still reads.
        var x = Tensor.Randn(new Generator(94), 1, Width);
        x.RequiresGrad = true;
        static Tensor Net(Tensor x)
        {
            var a = Backprop.Functional.Tanh(x);
            var s = a + a;
            return (Backprop.Functional.Tanh(s) + s * 3f + Backprop.Functional.Sigmoid(a)).Sum();
        }
        Net(x).Backward();
        var expected = x.Grad!.ToArray();
        x.Grad = null;
        var pool = new TensorMemoryPool();
        using (pool.Scope()) Net(x).Backward();
        Assert.Equal(expected, x.Grad!.ToArray());
    }
}

/// <summary>Backward's per-node timing reads the clock it is given (the profile's CPU time), once before and once after each node.</summary>
public class NodeClockTests
{
    [Fact]
    public void EachNodeIsTimedByTheGivenClock()
    {
        var x = Tensor.Randn(new Generator(95), 3, 4);
        x.RequiresGrad = true;
        var loss = Backprop.Functional.Tanh(x).Sum();
        long readings = 0;
        var durations = new List<(string Name, TimeSpan Time)>();
        Backprop.Autograd.Autograd.Backward(loss, null, false, (node, t) => durations.Add((node.Name, t)),
            () => TimeSpan.FromTicks(10 * ++readings));   // each reading 10 ticks after the last
        Assert.Equal(Backprop.Autograd.Autograd.LastBackwardNodeCount, durations.Count);
        Assert.All(durations, d => Assert.Equal(TimeSpan.FromTicks(10), d.Time));
        Assert.Equal(2L * durations.Count, readings);
    }
}
