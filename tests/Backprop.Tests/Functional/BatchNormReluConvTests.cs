using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>
/// BatchNormReluConv2d gives the bits of BatchNormRelu then Conv2d, forward, backward and in the running statistics,
/// and keeps one activation less for backward.
/// </summary>
public class BatchNormReluConvTests(ITestOutputHelper output)
{
    private const int Channels = 4;

    // Leaves: input, BatchNorm weight and bias (when affine), convolution weight and bias (when given).
    private static Tensor[] Leaves(Generator g, bool affine, bool convBias, int height = 9)
    {
        var leaves = new List<Tensor> { Leaf(g, 3, Channels, height, 7) };
        if (affine)
        {
            leaves.Add(UniformLeaf(g, -1.5f, 1.5f, Channels));   // a negative scale flips which side the ReLU keeps
            leaves.Add(Leaf(g, Channels));
        }
        leaves.Add(Leaf(g, 5, Channels, 3, 3));
        if (convBias) leaves.Add(Leaf(g, 5));
        return [.. leaves];
    }

    // Relu(BatchNorm(t[0])) then Conv2d, composed of the two ops or fused, with these running statistics.
    private static Func<Tensor[], Tensor> Op(bool fused, bool training, bool affine, bool convBias, int stride, Tensor runningMean, Tensor runningVar) => t =>
    {
        Tensor? w = affine ? t[1] : null, b = affine ? t[2] : null;
        int k = affine ? 3 : 1;
        Tensor? convBiasTensor = convBias ? t[k + 1] : null;
        if (fused)
            return Backprop.Functional.BatchNormReluConv2d(t[0], runningMean, runningVar, w, b, training, 0.1f, 1e-5f,
                t[k], convBiasTensor, (stride, stride), (1, 1), (1, 1));
        var h = Backprop.Functional.BatchNormRelu(t[0], runningMean, runningVar, w, b, training);
        return Backprop.Functional.Conv2d(h, t[k], convBiasTensor, (stride, stride), (1, 1), (1, 1));
    };

    [Theory]
    [InlineData(true, true, false, 1, false)]
    [InlineData(true, true, true, 2, false)]
    [InlineData(true, false, false, 1, false)]
    [InlineData(false, true, true, 1, false)]
    [InlineData(true, true, false, 1, true)]    // in a pool scope: the recomputed activation and dh come from the pool
    [InlineData(false, true, true, 2, true)]
    public void HasTheBitsOfBatchNormReluThenConv2d(bool training, bool affine, bool convBias, int stride, bool inPool)
    {
        var g = new Generator(81);
        var leaves = Leaves(g, affine, convBias);
        var upstream = Tensor.Randn(g, Op(false, training, affine, convBias, stride, Tensor.Zeros(Channels), Tensor.Ones(Channels))(leaves).Shape.ToArray());
        (float[] Y, float[][] Grads, float[] Mean, float[] Var) Run(bool fused)
        {
            Tensor runningMean = Tensor.FromArray([0.1f, -0.2f, 0, 0.3f]), runningVar = Tensor.FromArray([1, 2, 0.5f, 1]);
            var pool = new TensorMemoryPool();
            using (inPool ? pool.Scope() : null)
            {
                var (y, grads) = FusedReluTests.Run(Op(fused, training, affine, convBias, stride, runningMean, runningVar), leaves, upstream);
                return (y, grads, runningMean.ToArray(), runningVar.ToArray());
            }
        }
        var expected = Run(fused: false);
        var actual = Run(fused: true);
        string what = $"training={training} affine={affine} convBias={convBias} stride={stride} pool={inPool}";
        FusedReluTests.AssertSameBits((expected.Y, expected.Grads), (actual.Y, actual.Grads), what);
        KernelTestUtil.AssertBitIdentical(expected.Mean, actual.Mean, what + " running mean");
        KernelTestUtil.AssertBitIdentical(expected.Var, actual.Var, what + " running var");
    }

    [Theory]
    [InlineData(true, false)]    // the convolution frozen: no recomputation, only dh and the BatchNorm's gradients
    [InlineData(false, true)]    // the BatchNorm and the input frozen: only the convolution's weight gradient
    public void GivesTheBitsWhenOnlySomeParametersWantGradients(bool normSide, bool convSide)
    {
        var g = new Generator(82);
        var leaves = Leaves(g, affine: true, convBias: true);
        for (int i = 0; i < leaves.Length; i++) leaves[i].RequiresGrad = i < 3 ? normSide : convSide;
        var upstream = Tensor.Randn(g, 3, 5, 9, 7);
        float[][] Run(bool fused)
        {
            foreach (var t in leaves) t.Grad = null;
            Op(fused, true, true, true, 1, Tensor.Zeros(Channels), Tensor.Ones(Channels))(leaves).Backward(upstream);
            return [.. leaves.Select(t => t.Grad?.ToArray() ?? [])];
        }
        var expected = Run(fused: false);
        var actual = Run(fused: true);
        for (int i = 0; i < leaves.Length; i++)
        {
            Assert.Equal(leaves[i].RequiresGrad, actual[i].Length > 0);
            KernelTestUtil.AssertBitIdentical(expected[i], actual[i], $"gradient {i}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientCheck(bool training)
    {
        var g = new Generator(83);
        var x = MirroredBatch(g, 0.5f, 3, 4, 4);
        var w = UniformLeaf(g, 0.5f, 1.5f, 3);
        var b = Tensor.Zeros(3);
        b.RequiresGrad = true;
        var convWeight = Leaf(g, 2, 3, 3, 3);
        var convBias = Leaf(g, 2);
        Backprop.Tests.GradientCheck.Check(xs => Backprop.Functional.BatchNormReluConv2d(xs[0], Tensor.Zeros(3), Tensor.Ones(3), xs[1], xs[2],
                training, 0.1f, 1e-5f, xs[3], xs[4], (1, 1), (1, 1), (1, 1)),
            [x, w, b, convWeight, convBias], output, $"batch norm + relu + conv training={training}",
            ["input", "weight", "bias", "conv weight", "conv bias"]);
    }

    [Fact]
    public void KeepsOneActivationLessForBackward()
    {
        // Three BatchNorm, ReLU, conv layers in a row, each keeping the shape. Composed, each keeps two activations (the
        // ReLU's output for the conv's weight gradient, the conv's output for the next BatchNorm); fused, each keeps its
        // conv's output, and the activations between go back to the pool once read, each reusing the one before's buffer.
        const int layers = 3;
        var g = new Generator(84);
        var x = Leaf(g, 4, Channels, 16, 16);
        var convWeights = Enumerable.Range(0, layers).Select(_ => Leaf(g, Channels, Channels, 3, 3)).ToArray();
        var upstream = Tensor.Randn(g, 4, Channels, 16, 16);
        long activation = (long)x.Length * sizeof(float);
        (long Forward, long Step) Held(bool fused)
        {
            var pool = new TensorMemoryPool();
            long forward = 0;
            for (int step = 0; step < 2; step++)   // the second step asks for the same sizes: no new buffer
                using (pool.Scope())
                {
                    var y = x;
                    foreach (var w in convWeights)
                        y = Op(fused, true, false, false, 1, Tensor.Zeros(Channels), Tensor.Ones(Channels))([y, w]);
                    if (step == 0) forward = pool.BytesHeld;   // before any backward pass has added its gradients' buffers
                    y.Backward(upstream);
                }
            return (forward, pool.BytesHeld);
        }
        var composed = Held(fused: false);
        var fused = Held(fused: true);
        output.WriteLine($"pool after the forward, after the step: composed {composed}, fused {fused} bytes; one activation {activation} bytes");
        Assert.Equal(composed.Forward - (layers - 1) * activation, fused.Forward);
        Assert.True(fused.Step <= composed.Step - (layers - 1) * activation, $"a step held {fused.Step} bytes fused, {composed.Step} composed");
    }

    [Fact]
    public void ABadConvolutionThrowsBeforeTheRunningStatisticsMove()
    {
        var g = new Generator(85);
        var x = Tensor.Randn(g, 2, Channels, 5, 5);
        Tensor runningMean = Tensor.Zeros(Channels), runningVar = Tensor.Ones(Channels);
        var wrongChannels = Tensor.Randn(g, 5, Channels + 1, 3, 3);
        var error = Assert.Throws<ArgumentException>(() => Backprop.Functional.BatchNormReluConv2d(x, runningMean, runningVar, null, null,
            true, 0.1f, 1e-5f, wrongChannels, null, (1, 1), (1, 1), (1, 1)));
        Assert.Contains("channels", error.Message);
        Assert.All(runningMean.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(runningVar.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void SequentialRunsBatchNormReluConvAsOneOpWhileRecording()
    {
        var g = new Generator(86);
        var net = new Sequential(new Conv2d(2, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new Relu(), new Conv2d(4, 2, 3, padding: 1, generator: g));
        var x = Tensor.Randn(g, 3, 2, 5, 5);
        var y = net.Forward(x);
        var names = Autograd.Autograd.Nodes(y).Select(n => n.Name).ToList();
        Assert.Contains("BatchNormReluConvolutionBackward", names);
        Assert.DoesNotContain("BatchNormReluBackward", names);
        using (Autograd.Autograd.NoGrad())
            KernelTestUtil.AssertBitIdentical(y.ToArray(), net.Forward(x).ToArray(), "no-grad Sequential (BatchNormRelu, then the conv)");
    }
}
