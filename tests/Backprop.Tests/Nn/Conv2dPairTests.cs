using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;

namespace Backprop.Tests.Nn;

/// <summary>
/// Conv2d.ForwardReluThen: two kept-weight Winograd convolutions with the intermediate in 16-channel pixels give the bits of
/// the two calls on every path (blocks of tiles, channel-split single blocks, few tiles, 5x5, edge tiles), and fall back
/// to the two calls wherever that path does not run.
/// </summary>
public class Conv2dPairTests
{
    public static TheoryData<string, int, int, int, int, int, int, int, int> Pairs => new()
    {
        // name, N, C, H, W, K1, K2, kernel, padding
        { "16-channel 32x32, blocks of tiles", 2, 16, 32, 32, 16, 16, 3, 1 },
        { "32-channel 16x16 at batch 1: one block, output channels split", 1, 32, 16, 16, 32, 32, 3, 1 },
        { "64-channel 8x8 at batch 1: four tiles", 1, 64, 8, 8, 64, 64, 3, 1 },
        { "edge tiles, 16 -> 32 -> 16 on 10x10", 3, 16, 10, 10, 32, 16, 3, 1 },
        { "5x5, F(4x4, 5x5)", 2, 32, 12, 12, 32, 32, 5, 2 },
        { "no padding, 9x7 to 7x5 to 5x3", 16, 16, 9, 7, 16, 16, 3, 0 },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void ThePairGivesTheBitsOfTheTwoCalls(string name, int n, int c, int h, int w, int k1, int k2, int kernel, int padding)
    {
        foreach (int width in new[] { 512, 256 }.Where(x => x <= SimdWidth.Hardware))
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(width, threads, () =>
                {
                    var g = new Generator(91);
                    var first = new Conv2d(c, k1, kernel, padding: padding, generator: g);
                    var second = new Conv2d(k1, k2, kernel, padding: padding, generator: g);
                    first.Eval();
                    second.Eval();
                    var x = Tensor.Randn(g, n, c, h, w);
                    int oh = h + 4 * padding - 2 * (kernel - 1), ow = w + 4 * padding - 2 * (kernel - 1);
                    var residual = Tensor.Randn(g, n, k2, oh, ow);
                    var geometry = new Conv2dGeometry(n, c, h, w, k1, kernel, kernel, 1, 1, padding, padding, 1, 1, 1);
                    if (width == 512) Assert.True(WinogradWeightCache.Applies(geometry), $"{name}: the pair's first layer should keep Winograd weights");
                    var pool = new TensorMemoryPool();
                    using var noGrad = Autograd.Autograd.NoGrad();
                    using var scope = pool.Scope();
                    string at = $"{name}, width {width}, {threads} threads";
                    var h1 = first.ForwardRelu(x);
                    KernelTestUtil.AssertBitIdentical(second.Forward(h1).ToArray(), first.ForwardReluThen(second, x).ToArray(), at);
                    KernelTestUtil.AssertBitIdentical(second.ForwardRelu(h1).ToArray(), first.ForwardReluThen(second, x, nextRelu: true).ToArray(), at + ", ReLU");
                    KernelTestUtil.AssertBitIdentical(second.ForwardAddRelu(h1, residual).ToArray(),
                        first.ForwardReluThen(second, x, residual: residual).ToArray(), at + ", residual");
                });
    }

    [Fact]
    public void SequentialRunsConvReluConvAsAPair()
    {
        var g = new Generator(94);
        Conv2d a = new(16, 16, 3, padding: 1, generator: g), b = new(16, 32, 3, padding: 1, generator: g), c = new(32, 16, 3, padding: 1, generator: g);
        var chain = new Sequential(a, new Relu(), b, new Relu(), c, new Relu());
        chain.Eval();
        var x = Tensor.Randn(g, 2, 16, 12, 12);
        using var noGrad = Autograd.Autograd.NoGrad();
        var expected = c.ForwardRelu(b.ForwardRelu(a.ForwardRelu(x))).ToArray();
        var pool = new TensorMemoryPool();
        using (pool.Scope())
        {
            KernelTestUtil.AssertBitIdentical(expected, chain.Forward(x).ToArray(), "Conv2d, Relu, Conv2d, Relu, Conv2d, Relu");
            KernelTestUtil.AssertBitIdentical(c.Forward(b.ForwardRelu(a.ForwardRelu(x))).ToArray(),
                new Sequential(a, new Relu(), b, new Relu(), c).Forward(x).ToArray(), "ending in a Conv2d");
        }
    }

    [Fact]
    public void WhileAutogradRecordsItIsTheTwoCallsAndBackwardReachesBothLayers()
    {
        var g = new Generator(92);
        var first = new Conv2d(16, 16, 3, padding: 1, generator: g);
        var second = new Conv2d(16, 16, 3, padding: 1, generator: g);
        var x = Tensor.Randn(g, 2, 16, 8, 8);
        foreach (bool training in new[] { true, false })
        {
            first.Train(training);
            second.Train(training);
            first.ZeroGrad();
            second.ZeroGrad();
            var expected = second.ForwardRelu(first.ForwardRelu(x)).ToArray();
            var y = first.ForwardReluThen(second, x, nextRelu: true);
            Assert.Equal(expected, y.ToArray());
            y.Sum().Backward();
            Assert.NotNull(first.Weight.Grad);
            Assert.NotNull(second.Weight.Grad);
        }
    }

    [Fact]
    public void ShapesThePairCannotTakeRunAsTheTwoCallsWithTheirErrors()
    {
        var g = new Generator(93);
        var stem = new Conv2d(3, 16, 3, padding: 1, generator: g);      // 3 channels: no kept Winograd weights
        var next = new Conv2d(16, 16, 3, padding: 1, generator: g);
        stem.Eval();
        next.Eval();
        var x = Tensor.Randn(g, 2, 3, 8, 8);
        using var noGrad = Autograd.Autograd.NoGrad();
        Assert.Equal(next.Forward(stem.ForwardRelu(x)).ToArray(), stem.ForwardReluThen(next, x).ToArray());
        var mismatched = new Conv2d(32, 16, 3, padding: 1, generator: g);
        mismatched.Eval();
        Assert.Throws<ArgumentException>(() => next.ForwardReluThen(mismatched, Tensor.Randn(g, 2, 16, 8, 8)));
        Assert.Throws<ArgumentException>(() => next.ForwardReluThen(next, Tensor.Randn(g, 2, 16, 8, 8), residual: Tensor.Zeros(2, 16, 4, 4)));
    }
}
