using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>
/// Conv2dAddRelu (ResNet's Relu(conv(x) + shortcut) as one op) gives the bits of the three ops forward and backward, with
/// and without an evaluation-mode Conv2d's kept weights (Winograd transform, batch-1 direct packing), on 1 and 2 threads;
/// its gradient checks; and a weight written in place is still seen by the kept weights' per-thread compare.
/// </summary>
[Collection("KernelSettings")]
public class ConvAddReluTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true, 512)]
    [InlineData(false, 512)]
    [InlineData(true, 256)]
    [InlineData(true, 0)]
    public void HasTheBitsOfReluOfConvolutionPlusResidual(bool withBias, int width)
    {
        if (width > SimdWidth.Max) return;
        KernelTestUtil.With(width, null, () =>
        {
            var g = new Generator(81);
            var x = Leaf(g, 2, 5, 9, 10);
            var w = Leaf(g, 7, 5, 3, 3);
            var b = Leaf(g, 7);
            var r = Leaf(g, 2, 7, 9, 10);
            var upstream = Tensor.Randn(g, 2, 7, 9, 10);
            Tensor Composed(Tensor[] t) => Backprop.Functional.AddRelu(
                Backprop.Functional.Conv2d(t[0], t[1], withBias ? t[3] : null, (1, 1), (1, 1), (1, 1)), t[2]);
            Tensor Fused(Tensor[] t) => Backprop.Functional.Conv2dAddRelu(t[0], t[1], withBias ? t[3] : null, t[2], (1, 1), (1, 1), (1, 1));
            Tensor[] leaves = withBias ? [x, w, r, b] : [x, w, r];
            var expected = FusedReluTests.Run(Composed, leaves, upstream);
            var fused = FusedReluTests.Run(Fused, leaves, upstream);
            Assert.Contains(0f, expected.Y);
            KernelTestUtil.AssertBitIdentical(expected.Y, fused.Y, $"bias={withBias} width={width}: output");
            for (int i = 0; i < leaves.Length; i++)
                KernelTestUtil.AssertBitIdentical(expected.Grads[i], fused.Grads[i], $"bias={withBias} width={width}: gradient {i}");
        });
    }

    [Fact]
    public void PassesTheGradientCheck()
    {
        var g = new Generator(82);
        var x = Leaf(g, 1, 2, 5, 5);
        var w = UniformLeaf(g, -0.2f, 0.2f, 3, 2, 3, 3);
        var b = UniformLeaf(g, -0.1f, 0.1f, 3);
        // The residual keeps every sum at least 0.5 - |conv| (about 0.4) from the ReLU's kink, beyond the check's steps.
        var r = AwayFrom(g, 0f, 1.5f, 1, 3, 5, 5);
        GradientCheck.Check(xs => Backprop.Functional.Conv2dAddRelu(xs[0], xs[1], xs[2], xs[3], (1, 1), (1, 1), (1, 1)),
            [x, w, b, r], output, "conv + add + relu", ["input", "weight", "bias", "residual"]);
    }

    [Fact]
    public void AResidualOfAnotherShapeIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Backprop.Functional.Conv2dAddRelu(Tensor.Zeros(1, 2, 5, 5), Tensor.Zeros(3, 2, 3, 3), null, Tensor.Zeros(1, 3, 5, 4), (1, 1), (1, 1), (1, 1)));
        Assert.Contains("(1, 3, 5, 4)", e.Message);
        Assert.Contains("(1, 3, 5, 5)", e.Message);
    }

    public static readonly TheoryData<string, int, int, int, int> Layers = new()
    {
        // name, batch, channels, side, kernel: the kept Winograd transform (16 and 32 channels), the batch-1 direct packing
        // (64 channels on 8x8), and batch 2 where the direct path is not kept (the sum runs after the convolution).
        { "Winograd 32->32 16x16", 1, 32, 16, 3 },
        { "Winograd 16->16 32x32", 1, 16, 32, 3 },
        { "Winograd 32->32 14x14 (edge tiles cut), batch 3", 3, 32, 14, 3 },
        { "Winograd 5x5 32->32 12x12, batch 2", 2, 32, 12, 5 },
        { "Winograd 64->64 8x8 (4 tiles, AVX-512; else direct)", 1, 64, 8, 3 },
        { "direct 64->64 8x8 (kept Winograd off)", 1, 64, 8, 3 },
        { "direct 8->8 8x8 (one row tile: split by pixel panels)", 1, 8, 8, 3 },
        { "direct 64->64 8x8, batch 2", 2, 64, 8, 3 },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void AnEvaluationConv2dKeepsTheBitsOfConvolutionThenAddRelu(string name, int batch, int channels, int side, int kernel)
    {
        foreach (int width in new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware))
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(width, threads, () =>
                {
                    bool winogradKept = WinogradWeightCache.Enabled;
                    WinogradWeightCache.Enabled = !name.Contains("kept Winograd off", StringComparison.Ordinal);
                    try { Compare(name, batch, channels, side, kernel, width, threads); }
                    finally { WinogradWeightCache.Enabled = winogradKept; }
                });
    }

    private static void Compare(string name, int batch, int channels, int side, int kernel, int width, int threads)
    {
        var g = new Generator(83);
        var conv = new Conv2d(channels, channels, kernel, padding: kernel / 2, generator: g);
        conv.Eval();
        var x = Tensor.Randn(g, batch, channels, side, side);
        var r = Tensor.Randn(g, batch, channels, side, side);
        using var noGrad = Autograd.Autograd.NoGrad();
        float[] expected = Backprop.Functional.AddRelu(conv.Forward(x), r).ToArray();
        float[] fused = conv.ForwardAddRelu(x, r).ToArray();
        float[] again = conv.ForwardAddRelu(x, r).ToArray();
        if (name.StartsWith("Winograd", StringComparison.Ordinal) && (side != 8 || width == 512)) Assert.True(conv.KeepsWinogradWeights, name);
        var geometry = new Conv2dGeometry(batch, channels, side, side, channels, kernel, kernel, 1, 1, kernel / 2, kernel / 2, 1, 1, 1);
        if (name.StartsWith("direct", StringComparison.Ordinal) && batch == 1 && width == 512) Assert.True(DirectWeightCache.Applies(geometry), name);   // AVX2 keeps 8 channels off the direct path (row tiles of 6 too empty)
        KernelTestUtil.AssertBitIdentical(expected, fused, $"{name}, width {width}, {threads} threads");
        KernelTestUtil.AssertBitIdentical(expected, again, $"{name}, width {width}, {threads} threads, second call");
    }

    [Theory]
    [InlineData(32, 16, 0)]    // kept Winograd transform: beside the first weight, compared by the first thread
    [InlineData(32, 16, -1)]   // beside the last weight, compared by the last thread
    [InlineData(32, 16, -2)]   // beside the middle: in the first thread's half (-2) and in the second's (-3)
    [InlineData(32, 16, -3)]
    [InlineData(64, 8, 0)]     // kept Winograd transform of 4 tiles (AVX-512; AVX2: kept direct packing)
    [InlineData(64, 8, -1)]
    [InlineData(64, 8, -2)]
    [InlineData(64, 8, -3)]
    public void AWeightWrittenInPlaceIsSeenOnEveryThreadCount(int channels, int side, int which)
    {
        foreach (int threads in new[] { 1, 2 })
            KernelTestUtil.With(null, threads, () =>
            {
                var g = new Generator(84);
                var conv = new Conv2d(channels, channels, 3, padding: 1, generator: g);
                conv.Eval();
                var x = Tensor.Randn(g, 1, channels, side, side);
                var r = Tensor.Randn(g, 1, channels, side, side);
                using var noGrad = Autograd.Autograd.NoGrad();
                conv.ForwardAddRelu(x, r);
                conv.Forward(x);
                var weights = conv.Weight.AsSpan();
                // One weight that the sampled pre-check skips (index 1 is never sampled) next to the one asked for, so
                // that only the threads' full compare can see it, in the slice the first or the second thread compares.
                int at = which switch { -1 => weights.Length - 2, -2 => weights.Length / 2 - 1, -3 => weights.Length / 2 + 1, _ => 1 };
                weights[at] += 0.5f;
                float[] fused = conv.ForwardAddRelu(x, r).ToArray();
                float[] plain = conv.Forward(x).ToArray();
                conv.Train();   // the uncached path on the new weights
                float[] expectedPlain = Backprop.Functional.Conv2d(x, conv.Weight, conv.Bias, (1, 1), (1, 1), (1, 1)).ToArray();
                float[] expected = Backprop.Functional.AddRelu(Backprop.Functional.Conv2d(x, conv.Weight, conv.Bias, (1, 1), (1, 1), (1, 1)), r).ToArray();
                KernelTestUtil.AssertClose(expected, fused, 2e-4, 2e-4, $"{channels} channels, weight {which}, {threads} threads: fused");
                KernelTestUtil.AssertClose(expectedPlain, plain, 2e-4, 2e-4, $"{channels} channels, weight {which}, {threads} threads: plain");
                // And bit for bit what a fresh evaluation Conv2d with those weights gives.
                var fresh = new Conv2d(channels, channels, 3, padding: 1, generator: new Generator(1));
                conv.Weight.AsSpan().CopyTo(fresh.Weight.AsSpan());
                conv.Bias!.AsSpan().CopyTo(fresh.Bias!.AsSpan());
                fresh.Eval();
                KernelTestUtil.AssertBitIdentical(fresh.ForwardAddRelu(x, r).ToArray(), fused, $"{channels} channels, weight {which}, {threads} threads: vs fresh");
            });
    }
}
