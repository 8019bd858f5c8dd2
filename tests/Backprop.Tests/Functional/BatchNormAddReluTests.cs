using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>BatchNormAddRelu gives the bits of AddRelu(BatchNorm(x), r), forward and backward, at every SIMD width, and keeps one tensor less.</summary>
[Collection("KernelSettings")]
public class BatchNormAddReluTests(ITestOutputHelper output)
{
    private static readonly float[] RunningMean = [0.1f, -0.2f, 0, 0.3f], RunningVar = [1, 2, 0.5f, 1];

    private static (float[] Y, float[][] Grads) Run(Func<Tensor[], Tensor> f, Tensor[] leaves, Tensor upstream)
    {
        foreach (var t in leaves) t.Grad = null;
        var y = f(leaves);
        y.Backward(upstream);
        return (y.ToArray(), leaves.Select(t => t.Grad!.ToArray()).ToArray());
    }

    [Theory]
    [InlineData(true, 512)]
    [InlineData(false, 512)]
    [InlineData(true, 256)]
    [InlineData(true, 128)]
    [InlineData(false, 0)]
    public void HasTheBitsOfAddReluAfterBatchNorm(bool training, int width)
    {
        if (width > SimdWidth.Max) return;   // this CPU cannot run that width
        KernelTestUtil.With(width, null, () =>
        {
            var g = new Generator(81);
            // 37 values per plane: every vector width's tail runs; about half the sums are masked.
            var x = Leaf(g, 3, 4, 37, 1);
            var r = Leaf(g, 3, 4, 37, 1);
            var w = UniformLeaf(g, -1.5f, 1.5f, 4);
            var b = Leaf(g, 4);
            var upstream = Tensor.Randn(g, 3, 4, 37, 1);
            Tensor Composed(Tensor[] t) => Backprop.Functional.AddRelu(Backprop.Functional.BatchNorm(
                t[0], Tensor.FromArray(RunningMean), Tensor.FromArray(RunningVar), t[2], t[3], training), t[1]);
            Tensor Fused(Tensor[] t) => Backprop.Functional.BatchNormAddRelu(
                t[0], t[1], Tensor.FromArray(RunningMean), Tensor.FromArray(RunningVar), t[2], t[3], training);
            var expected = Run(Composed, [x, r, w, b], upstream);
            var actual = Run(Fused, [x, r, w, b], upstream);
            Assert.Contains(0f, expected.Y);
            KernelTestUtil.AssertBitIdentical(expected.Y, actual.Y, "output");
            for (int i = 0; i < 4; i++) KernelTestUtil.AssertBitIdentical(expected.Grads[i], actual.Grads[i], $"gradient {i}, training={training} width={width}");
        });
    }

    [Fact]
    public void WithoutAffineParametersOrResidualGradientMatchesToo()
    {
        var g = new Generator(82);
        var x = Leaf(g, 2, 3, 5, 7);
        var r = Tensor.Randn(g, 2, 3, 5, 7);   // a residual that needs no gradient
        var upstream = Tensor.Randn(g, 2, 3, 5, 7);
        var expected = Run(t => Backprop.Functional.AddRelu(Backprop.Functional.BatchNorm(t[0], Tensor.Zeros(3), Tensor.Ones(3), null, null, true), r), [x], upstream);
        var actual = Run(t => Backprop.Functional.BatchNormAddRelu(t[0], r, Tensor.Zeros(3), Tensor.Ones(3), null, null, true), [x], upstream);
        KernelTestUtil.AssertBitIdentical(expected.Y, actual.Y, "output");
        KernelTestUtil.AssertBitIdentical(expected.Grads[0], actual.Grads[0], "input gradient");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientCheck(bool training)
    {
        var g = new Generator(83);
        // The residual is small, so the sums stay far from the ReLU's kink for the check's steps.
        var x = MirroredBatch(g, 0.5f, 3, 3, 3);
        var r = UniformLeaf(g, -0.05f, 0.05f, 2, 3, 3, 3);
        var w = UniformLeaf(g, 0.5f, 1.5f, 3);
        var b = Tensor.Zeros(3);
        b.RequiresGrad = true;
        Backprop.Tests.GradientCheck.Check(xs => Backprop.Functional.BatchNormAddRelu(xs[0], xs[1], Tensor.Zeros(3), Tensor.Ones(3), xs[2], xs[3], training),
            [x, r, w, b], output, $"batch norm + add + relu training={training}", ["input", "residual", "weight", "bias"]);
    }

    [Fact]
    public void KeepsOneTensorLessThanTheComposedOps()
    {
        var g = new Generator(84);
        var bn = new BatchNorm2d(4);
        var x = Tensor.Randn(g, 2, 4, 3, 3);
        var r = Tensor.Randn(g, 2, 4, 3, 3);
        x.RequiresGrad = true;
        long Rented(Func<Tensor> forward)
        {
            var pool = new TensorMemoryPool();
            using (pool.Scope()) forward();
            return pool.BytesAllocated;
        }
        long composed = Rented(() => Backprop.Functional.AddRelu(bn.Forward(x), r));
        long fused = Rented(() => bn.ForwardAddRelu(x, r));
        Assert.Equal(composed - x.Length * sizeof(float), fused);
    }

    [Fact]
    public void ResidualOfAnotherShapeIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Backprop.Functional.BatchNormAddRelu(Tensor.Zeros(2, 3, 4, 4), Tensor.Zeros(2, 3, 4, 5), Tensor.Zeros(3), Tensor.Ones(3), null, null, true));
        Assert.Contains("residual", e.Message);
    }
}
