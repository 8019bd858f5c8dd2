using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>BatchNormRelu and AddRelu give the bits of the ops they fuse, forward and backward, at every SIMD width.</summary>
[Collection("KernelSettings")]
public class FusedReluTests(ITestOutputHelper output)
{
    // The output and each leaf's gradient of f(leaves) backward from upstream (also ConvAddReluTests').
    internal static (float[] Y, float[][] Grads) Run(Func<Tensor[], Tensor> f, Tensor[] leaves, Tensor upstream)
    {
        foreach (var t in leaves) t.Grad = null;
        var y = f(leaves);
        y.Backward(upstream);
        return (y.ToArray(), leaves.Select(t => t.Grad!.ToArray()).ToArray());
    }

    internal static void AssertSameBits((float[] Y, float[][] Grads) expected, (float[] Y, float[][] Grads) actual, string what)
    {
        KernelTestUtil.AssertBitIdentical(expected.Y, actual.Y, what + " output");
        for (int i = 0; i < expected.Grads.Length; i++) KernelTestUtil.AssertBitIdentical(expected.Grads[i], actual.Grads[i], $"{what} gradient {i}");
    }

    [Theory]
    [InlineData(true, 512)]
    [InlineData(false, 512)]
    [InlineData(true, 256)]
    [InlineData(true, 128)]
    [InlineData(false, 0)]
    public void BatchNormReluHasTheBitsOfReluAfterBatchNorm(bool training, int width)
    {
        if (width > SimdWidth.Max) return;   // this CPU cannot run that width
        KernelTestUtil.With(width, null, () =>
        {
            var g = new Generator(71);
            // 37 values per plane: every vector width's tail runs; the mean sits near zero so about half are masked.
            var x = Leaf(g, 3, 4, 37, 1);
            var w = UniformLeaf(g, -1.5f, 1.5f, 4);   // a negative scale flips which side the ReLU keeps
            var b = Leaf(g, 4);
            var upstream = Tensor.Randn(g, 3, 4, 37, 1);
            Tensor Composed(Tensor[] t) => Backprop.Functional.Relu(
                Backprop.Functional.BatchNorm(t[0], Tensor.FromArray([0.1f, -0.2f, 0, 0.3f]), Tensor.FromArray([1, 2, 0.5f, 1]), t[1], t[2], training));
            Tensor Fused(Tensor[] t) => Backprop.Functional.BatchNormRelu(
                t[0], Tensor.FromArray([0.1f, -0.2f, 0, 0.3f]), Tensor.FromArray([1, 2, 0.5f, 1]), t[1], t[2], training);
            var expected = Run(Composed, [x, w, b], upstream);
            Assert.Contains(0f, expected.Y);
            AssertSameBits(expected, Run(Fused, [x, w, b], upstream), $"training={training} width={width}");
        });
    }

    [Fact]
    public void BatchNormReluWithoutAffineParametersMatchesToo()
    {
        var g = new Generator(72);
        var x = Leaf(g, 2, 3, 5, 7);
        var upstream = Tensor.Randn(g, 2, 3, 5, 7);
        var expected = Run(t => Backprop.Functional.Relu(Backprop.Functional.BatchNorm(t[0], Tensor.Zeros(3), Tensor.Ones(3), null, null, true)), [x], upstream);
        AssertSameBits(expected, Run(t => Backprop.Functional.BatchNormRelu(t[0], Tensor.Zeros(3), Tensor.Ones(3), null, null, true), [x], upstream), "no affine");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormReluGradientCheck(bool training)
    {
        var g = new Generator(73);
        var x = MirroredBatch(g, 0.5f, 3, 3, 3);
        var w = UniformLeaf(g, 0.5f, 1.5f, 3);
        var b = Tensor.Zeros(3);
        b.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.BatchNormRelu(xs[0], Tensor.Zeros(3), Tensor.Ones(3), xs[1], xs[2], training),
            [x, w, b], output, $"batch norm + relu training={training}", ["input", "weight", "bias"]);
    }

    [Fact]
    public void AddReluHasTheBitsOfReluOfTheSum()
    {
        var g = new Generator(74);
        var a = Leaf(g, 3, 5, 11);
        var c = Leaf(g, 3, 5, 11);
        var upstream = Tensor.Randn(g, 3, 5, 11);
        var expected = Run(t => Backprop.Functional.Relu(t[0] + t[1]), [a, c], upstream);
        AssertSameBits(expected, Run(t => Backprop.Functional.AddRelu(t[0], t[1]), [a, c], upstream), "add + relu");
        var shifted = AwayFrom(g, 0f, 0.2f, 2, 7);
        var zeros = Tensor.Zeros(2, 7);
        zeros.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.AddRelu(xs[0], xs[1]), [shifted, zeros], output, "add + relu");
        Assert.Throws<ArgumentException>(() => Backprop.Functional.AddRelu(Tensor.Zeros(2, 3), Tensor.Zeros(3)));
    }

    [Fact]
    public void SequentialFusesBatchNormFollowedByRelu()
    {
        var g = new Generator(75);
        // A MaxPool2d after the ReLU: a convolution there would run the three as one op (BatchNormReluConvTests).
        var net = new Sequential(new Conv2d(2, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new Relu(), new MaxPool2d(2));
        var x = Tensor.Randn(g, 3, 2, 6, 6);
        var y = net.Forward(x);
        Assert.Contains(Autograd.Autograd.Nodes(y), n => n.Name == "BatchNormReluBackward");
        Assert.DoesNotContain(Autograd.Autograd.Nodes(y), n => n.Name == "ReluBackward");
        // The unfused path: conv, batch norm, then ReLU by hand, then the pooling.
        var h = Backprop.Functional.Relu(net[1].Forward(net[0].Forward(x)));
        KernelTestUtil.AssertBitIdentical(net[3].Forward(h).ToArray(), y.ToArray(), "fused Sequential");
    }
}
