namespace Backprop.Tests.AutogradTests;

/// <summary>
/// Backward gives each gradient's memory back to the open pool scope once the engine holds it no more, so a deep chain
/// needs a few gradient buffers, not one per node; and gradients shared by several nodes (Add's, views) stay intact.
/// </summary>
public class GradientMemoryTests
{
    private const int Width = 1 << 16;

    private static Tensor Chain(Tensor x, int depth)
    {
        var h = x;
        for (int i = 0; i < depth; i++) h = Backprop.Functional.Tanh(h);
        return h.Sum();
    }

    [Fact]
    public void ADeepChainReusesAFewGradientBuffers()
    {
        const int depth = 24;
        var x = Tensor.Randn(new Generator(81), 1, Width);
        x.RequiresGrad = true;
        Chain(x, depth).Backward();
        var expected = x.Grad!.ToArray();
        x.Grad = null;

        var pool = new TensorMemoryPool();
        long forwardBytes;
        using (pool.Scope())
        {
            var loss = Chain(x, depth);
            forwardBytes = pool.BytesAllocated;
            loss.Backward();
        }
        long backwardBytes = pool.BytesAllocated - forwardBytes, buffer = Width * 4L;
        // Without giving gradients back, backward would take one new buffer per node (24).
        Assert.True(backwardBytes <= 3 * buffer, $"backward allocated {backwardBytes / buffer} gradient buffers of a {depth}-node chain");
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    private static Tensor ResidualChain(Tensor x, int blocks)
    {
        var h = x;
        for (int i = 0; i < blocks; i++) h = h + Backprop.Functional.Tanh(Backprop.Functional.Tanh(h));
        return h.Sum();
    }

    [Fact]
    public void AResidualSumReusesTheBufferOfTheGradientItsNodeJustConsumed()
    {
        const int blocks = 12;
        var x = Tensor.Randn(new Generator(84), 1, Width);
        x.RequiresGrad = true;
        ResidualChain(x, blocks).Backward();
        var expected = x.Grad!.ToArray();
        x.Grad = null;

        var pool = new TensorMemoryPool();
        long forwardBytes;
        using (pool.Scope())
        {
            var loss = ResidualChain(x, blocks);
            forwardBytes = pool.BytesAllocated;
            loss.Backward();
        }
        long backwardBytes = pool.BytesAllocated - forwardBytes, buffer = Width * 4L;
        // Each block's sum (the residual's gradient plus the branch's) takes the buffer of the branch's inner gradient, which
        // its node has just consumed: three buffers in flight, not four.
        Assert.True(backwardBytes <= 3 * buffer, $"backward allocated {backwardBytes / buffer} gradient buffers for {blocks} residual blocks");
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    // A CNN's shape: a chain on a large map, a 2x2 pooling, a chain on the quarter-size map; backward meets the small
    // gradients first.
    private static Tensor Pyramid(Tensor x, int depth)
    {
        var h = x;
        for (int i = 0; i < depth; i++) h = Backprop.Functional.Tanh(h);
        h = Backprop.Functional.AvgPool2d(h, 2);
        for (int i = 0; i < depth; i++) h = Backprop.Functional.Tanh(h);
        return h.Sum();
    }

    [Fact]
    public void SmallGradientsTakeBuffersTheLargeOnesReuseLater()
    {
        var x = Tensor.Randn(new Generator(85), 1, 1, 256, 256);
        x.RequiresGrad = true;
        Pyramid(x, 4).Backward();
        var expected = x.Grad!.ToArray();
        x.Grad = null;

        var pool = new TensorMemoryPool();
        for (int step = 0; step < 2; step++)
        {
            x.Grad = null;
            long forwardBytes;
            using (pool.Scope())
            {
                var loss = Pyramid(x, 4);
                forwardBytes = pool.BytesAllocated;
                loss.Backward();
                if (step == 0)
                {
                    long backwardBytes = pool.BytesAllocated - forwardBytes, large = 256 * 256 * 4L;
                    // Sized exactly, the quarter-size gradients would take buffers of their own that sit idle when the large ones come.
                    Assert.True(backwardBytes <= 2 * large, $"backward allocated {backwardBytes / (double)large} large gradient buffers' worth");
                }
            }
            Assert.Equal(expected, x.Grad!.ToArray());
        }
    }

    /// <summary>Add hands one gradient to both inputs, Reshape a view of it, Mul reads it twice: every sharing pattern at once.</summary>
    private static Tensor Shared(Tensor x)
    {
        var t = Backprop.Functional.Tanh(x);
        var s = t + t.Reshape(Width, 1).Reshape(1, Width);     // one gradient, two consumers, one through views
        var u = Backprop.Functional.Sigmoid(s) * Backprop.Functional.Tanh(s);
        return (u + Backprop.Functional.Relu(t) + s).Sum();
    }

    [Fact]
    public void GradientsSharedBetweenNodesAreNotGivenBackEarly()
    {
        var x = Tensor.Randn(new Generator(82), 1, Width);
        x.RequiresGrad = true;
        Shared(x).Backward();
        var expected = x.Grad!.ToArray();

        var pool = new TensorMemoryPool();
        for (int step = 0; step < 3; step++)   // later steps run on buffers the earlier ones gave back
        {
            x.Grad = null;
            using (pool.Scope()) Shared(x).Backward();
            Assert.Equal(expected, x.Grad!.ToArray());
        }
    }

    [Fact]
    public void RetainedGraphsKeepTheirGradientsAndActivations()
    {
        var x = Tensor.Randn(new Generator(83), 1, Width);
        x.RequiresGrad = true;
        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            var loss = Shared(x);
            loss.Backward(retainGraph: true);
            var first = x.Grad!.ToArray();
            x.Grad = null;
            loss.Backward();
            Assert.Equal(first, x.Grad!.ToArray());
        }
    }
}
