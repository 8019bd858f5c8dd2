using Backprop.Nn;
using Backprop.Tests.Kernels;

namespace Backprop.Tests.Nn;

/// <summary>
/// Fusion.FuseConvBatchNorm: the folded convolution computes the evaluation-mode conv + BatchNorm up to float rounding,
/// whole nets keep their function and structure, the originals are left alone, and misuse is refused by name.
/// </summary>
public class FusionTests
{
    private const double Unit = 1.0 / (1 << 24);   // float's unit roundoff

    // Running statistics, scale and shift far from their defaults; variances near eps so a wrong eps shows.
    private static BatchNorm2d Trained(BatchNorm2d bn, Generator g)
    {
        Span<float> mean = bn.RunningMean.AsSpan(), variance = bn.RunningVar.AsSpan();
        for (int i = 0; i < bn.NumFeatures; i++)
        {
            mean[i] = (float)(g.NextDouble() * 2 - 1);
            variance[i] = (float)(0.02 + g.NextDouble() * 1.5);
            if (bn.Weight is not null) bn.Weight.AsSpan()[i] = (float)(g.NextDouble() * 3 - 1.5);   // negative scales too
            if (bn.Bias is not null) bn.Bias.AsSpan()[i] = (float)(g.NextDouble() * 2 - 1);
        }
        return bn;
    }

    // (C, K, kernel, stride, padding, dilation, groups, conv bias, BatchNorm affine)
    public static TheoryData<int, int, int, int, int, int, int, bool, bool> Pairs => new()
    {
        { 3, 8, 3, 1, 1, 1, 1, true, true },
        { 3, 8, 3, 1, 1, 1, 1, false, true },    // conv without bias: the folded one gets one
        { 4, 6, 3, 1, 1, 1, 1, true, false },    // BatchNorm without affine
        { 6, 9, 3, 2, 1, 1, 3, false, true },    // grouped, strided
        { 4, 4, 3, 1, 2, 2, 4, true, true },     // depthwise, dilated
        { 5, 7, 1, 2, 0, 1, 1, false, false },   // 1x1 stride 2 (a ResNet shortcut)
    };

    /// <summary>
    /// Tolerance: folding reorders float operations (W·s is rounded before the products are summed), so bits differ.
    /// Each side is within (D + 6)·u·T of the exact value, where D is the dot product's length, u float's unit roundoff
    /// and T = (|W'| * |x|) + |b'| + |mean·s| + |beta| + |b·s| (the sum of the magnitudes of every term either side adds):
    /// the standard forward-error bound of a sum. The two sides may differ by twice that. A wrong fold (eps, mean, a
    /// channel's scale) misses by orders of magnitude more.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pairs))]
    public void FoldedPairMatchesConvThenBatchNormInEvaluation(int c, int k, int kernel, int stride, int padding, int dilation, int groups,
        bool convBias, bool affine)
    {
        var g = new Generator(91);
        var conv = new Conv2d(c, k, kernel, stride, padding, dilation, groups, convBias, g);
        var bn = Trained(new BatchNorm2d(k, eps: 0.01f, affine: affine), g);
        bn.Eval();
        var x = Tensor.Randn(g, 2, c, 9, 8);
        float[] expected = bn.Forward(conv.Forward(x)).ToArray();

        var fused = Fusion.FuseConvBatchNorm(conv, bn);
        float[] actual = fused.Forward(x).ToArray();

        Assert.Equal((conv.KernelSize, conv.Stride, conv.Padding, conv.Dilation, conv.Groups), (fused.KernelSize, fused.Stride, fused.Padding, fused.Dilation, fused.Groups));
        Assert.NotNull(fused.Bias);
        Assert.False(fused.IsTraining);
        // T, per output element: the magnitudes of every term summed.
        float[] magnitude = Backprop.Functional.Conv2d(x.Abs(), fused.Weight.Abs(), null, stride, padding, dilation, groups).ToArray();
        int depth = c / groups * kernel * kernel, plane = magnitude.Length / 2 / k;
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int ch = i / plane % k;
            double s = (affine ? bn.Weight!.ToArray()[ch] : 1.0) / Math.Sqrt(bn.RunningVar.ToArray()[ch] + (double)bn.Eps);
            double terms = magnitude[i] + Math.Abs(fused.Bias!.ToArray()[ch]) + Math.Abs(bn.RunningMean.ToArray()[ch] * s)
                + (affine ? Math.Abs(bn.Bias!.ToArray()[ch]) : 0) + (convBias ? Math.Abs(conv.Bias!.ToArray()[ch] * s) : 0);
            double tolerance = 2 * (depth + 6) * Unit * terms, diff = Math.Abs(actual[i] - expected[i]);
            Assert.True(diff <= tolerance, $"element {i} (channel {ch}): folded {actual[i]:R}, conv then BatchNorm {expected[i]:R}, diff {diff:E2} > {tolerance:E2}");
            worst = Math.Max(worst, diff / tolerance);
        }
        Assert.True(worst < 1, $"worst diff {worst:F3} of its tolerance");
    }

    // Whole nets: rounding differences pass through later layers, so they are compared at 1e-4 of the output's largest
    // magnitude: about 100 times the differences seen here, and 100 times smaller than the 1% a wrongly folded channel gives.
    private static void AssertSameFunction(Tensor expected, Tensor actual, string what)
    {
        float[] e = expected.ToArray(), a = actual.ToArray();
        double scale = e.Max(Math.Abs);
        KernelTestUtil.AssertClose(e, a, 1e-4 * scale, 0, what);
    }

    private static Sequential VggLike(Generator g) => new(
        new Conv2d(3, 8, 3, padding: 1, generator: g), Trained(new BatchNorm2d(8, eps: 0.01f), g), new Relu(), new MaxPool2d(2),
        new Conv2d(8, 12, 3, stride: 1, padding: 2, dilation: 2, groups: 4, bias: false, generator: g), Trained(new BatchNorm2d(12, affine: false), g),
        new Sequential(new Conv2d(12, 6, 1, stride: 2, bias: false, generator: g), Trained(new BatchNorm2d(6), g)),
        new Relu(), new Flatten(), new Linear(6 * 2 * 2, 5, generator: g));

    [Fact]
    public void FusedSequentialComputesTheEvaluationNetWithoutBatchNorm()
    {
        var g = new Generator(92);
        var net = VggLike(g);
        net.Eval();
        var x = Tensor.Randn(g, 3, 3, 8, 8);
        var fused = Fusion.FuseConvBatchNorm(net);

        AssertSameFunction(net.Forward(x), fused.Forward(x), "fused Sequential");
        Assert.DoesNotContain(fused.NamedModules(), m => m.Value is BatchNorm2d);
        // Names are kept (the state-dict names of the convolutions do not move); the BatchNorms' names are gone.
        Assert.Equal(["0", "2", "3", "4", "6", "7", "8", "9"], fused.NamedChildren().Select(c => c.Key));
        Assert.Equal(["0"], ((Sequential)fused[4]).NamedChildren().Select(c => c.Key));
        Assert.Same(net[9], fused[7]);     // other modules are shared, not copied
        Assert.NotSame(net[0], fused[0]);
        Assert.False(fused.IsTraining);
        // The Conv2d, Relu pair left by the first triple runs as one op.
        var nodes = Autograd.Autograd.Nodes(fused.Forward(x));
        Assert.Contains(nodes, n => n.Name == "ConvolutionReluBackward");
        Assert.DoesNotContain(nodes, n => n.Name == "NativeBatchNormBackward");
    }

    [Fact]
    public void TheOriginalNetIsLeftAsItWas()
    {
        var g = new Generator(93);
        var net = VggLike(g);
        net.Eval();
        var dropout = new Dropout(0.5f, g);
        net.Add(dropout);
        dropout.Train();   // a shared child in another mode than its parent keeps it
        var x = Tensor.Randn(g, 2, 3, 8, 8);
        dropout.Eval();
        float[] before = net.Forward(x).ToArray();
        dropout.Train();
        var state = net.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        string description = net.ToString();

        var fused = Fusion.FuseConvBatchNorm(net);

        Assert.Equal(description, net.ToString());
        Assert.True(dropout.IsTraining);
        Assert.False(net.IsTraining);
        foreach (var (name, tensor) in net.StateDict()) Assert.Equal(state[name], tensor.ToArray());
        dropout.Eval();
        KernelTestUtil.AssertBitIdentical(before, net.Forward(x).ToArray(), "original after fusion");
        // The folded weights are the fused net's own: training the original further does not reach them.
        float[] fusedBefore = fused.Forward(x).ToArray();
        ((Conv2d)net[0]).Weight.AsSpan().Fill(0);
        ((BatchNorm2d)net[1]).RunningMean.AsSpan().Fill(3);
        KernelTestUtil.AssertBitIdentical(fusedBefore, fused.Forward(x).ToArray(), "fused after changing the original");
    }

    /// <summary>A hand-written residual block, fused the way its docs say: pair by pair, ReLUs inside the convolution.</summary>
    private sealed class Block : Module
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d? bn1, bn2;
        private readonly Sequential shortcut;

        public Block(Generator g)
        {
            conv1 = RegisterModule("conv1", new Conv2d(4, 6, 3, stride: 2, padding: 1, bias: false, generator: g));
            bn1 = RegisterModule("bn1", Trained(new BatchNorm2d(6), g));
            conv2 = RegisterModule("conv2", new Conv2d(6, 6, 3, padding: 1, bias: false, generator: g));
            bn2 = RegisterModule("bn2", Trained(new BatchNorm2d(6), g));
            shortcut = RegisterModule("shortcut", new Sequential(new Conv2d(4, 6, 1, stride: 2, bias: false, generator: g), Trained(new BatchNorm2d(6), g)));
        }

        private Block(Block unfused)
        {
            conv1 = RegisterModule("conv1", Fusion.FuseConvBatchNorm(unfused.conv1, unfused.bn1!));
            conv2 = RegisterModule("conv2", Fusion.FuseConvBatchNorm(unfused.conv2, unfused.bn2!));
            shortcut = RegisterModule("shortcut", Fusion.FuseConvBatchNorm(unfused.shortcut));
        }

        public Block Fused() => new(this);

        public override Tensor Forward(Tensor input)
        {
            var y = bn1 is null ? conv2.Forward(conv1.ForwardRelu(input)) : bn2!.Forward(conv2.Forward(bn1.ForwardRelu(conv1.Forward(input))));
            return Backprop.Functional.AddRelu(y, shortcut.Forward(input));
        }
    }

    [Fact]
    public void FusedResidualBlockComputesTheEvaluationBlock()
    {
        var g = new Generator(94);
        var block = new Block(g);
        block.Eval();
        var x = Tensor.Randn(g, 2, 4, 9, 9);
        var fused = block.Fused();
        AssertSameFunction(block.Forward(x), fused.Forward(x), "fused residual block");
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "shortcut.0.weight", "shortcut.0.bias"],
            fused.NamedParameters().Select(p => p.Key));
    }

    [Fact]
    public void BatchNormInTrainingModeIsRefusedByName()
    {
        var g = new Generator(95);
        var net = new Sequential(new Conv2d(3, 4, 3, generator: g), new Sequential(new Conv2d(4, 4, 1, generator: g), new BatchNorm2d(4)));
        net.Eval();
        ((Sequential)net[1])[1].Train();
        var e = Assert.Throws<InvalidOperationException>(() => Fusion.FuseConvBatchNorm(net));
        Assert.Contains("'1.1' (BatchNorm2d(4))", e.Message);
        Assert.Contains("'1.0' (Conv2d(4, 4, kernel=1))", e.Message);
        Assert.Contains("training mode", e.Message);
        var pair = Assert.Throws<InvalidOperationException>(() => Fusion.FuseConvBatchNorm(new Conv2d(3, 4, 3, generator: g), new BatchNorm2d(4)));
        Assert.Contains("BatchNorm2d(4)", pair.Message);
    }

    [Fact]
    public void MismatchedChannelsAreRefusedNamingBothModules()
    {
        var g = new Generator(96);
        var bn = new BatchNorm2d(5);
        bn.Eval();
        var e = Assert.Throws<ArgumentException>(() => Fusion.FuseConvBatchNorm(new Conv2d(3, 4, 3, generator: g), bn));
        Assert.Contains("BatchNorm2d(5)", e.Message);
        Assert.Contains("Conv2d(3, 4, kernel=3)", e.Message);
        Assert.Contains("5 channels", e.Message);
        Assert.Contains("4 output channels", e.Message);
    }
}
