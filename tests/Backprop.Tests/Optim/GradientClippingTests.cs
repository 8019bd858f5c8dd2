using Backprop.Nn;
using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class GradientClippingTests
{
    // Gradients (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13.
    private static (Parameter a, Parameter b) Pair()
    {
        var a = Param(0, 0);
        var b = Param(0);
        SetGrad(a, [3, 4]);
        SetGrad(b, [12]);
        return (a, b);
    }

    [Fact]
    public void ScalesAllGradientsByMaxOverNorm()
    {
        var (a, b) = Pair();
        double norm = GradientClipping.ClipByGlobalNorm([a, b], 6.5f);
        Assert.Equal(13.0, norm, 12);
        // Caffe: scale = clip_gradients / l2norm = 6.5 / 13 = 0.5 exactly (PyTorch would use 6.5 / (13 + 1e-6)).
        AssertClose([1.5, 2.0], a.Grad!, 0, 0);
        AssertClose([6.0], b.Grad!, 0, 0);
    }

    [Fact]
    public void ClippedNormEqualsTheMaximum()
    {
        var (a, b) = Pair();
        GradientClipping.ClipByGlobalNorm([a, b], 5f);
        double after = GradientClipping.ClipByGlobalNorm([a, b], 100f);
        Assert.Equal(5.0, after, 5);
    }

    [Theory]
    [InlineData(13f)]  // exactly at the maximum: Caffe clips only when norm > max
    [InlineData(20f)]
    public void LeavesGradientsAtOrBelowTheMaximum(float maxNorm)
    {
        var (a, b) = Pair();
        double norm = GradientClipping.ClipByGlobalNorm([a, b], maxNorm);
        Assert.Equal(13.0, norm, 12);
        AssertClose([3, 4], a.Grad!, 0, 0);
        AssertClose([12], b.Grad!, 0, 0);
    }

    [Fact]
    public void SkipsMissingGradientsAndFrozenParameters()
    {
        var (a, b) = Pair();
        var none = Param(1, 2);
        var frozen = new Parameter(Tensor.FromArray([0f], 1), requiresGrad: false) { Grad = Tensor.FromArray([100f], 1) };
        double norm = GradientClipping.ClipByGlobalNorm([a, none, frozen, b], 6.5f);
        Assert.Equal(13.0, norm, 12);
        Assert.Null(none.Grad);
        AssertClose([100], frozen.Grad!, 0, 0);
        AssertClose([6.0], b.Grad!, 0, 0);
    }

    [Fact]
    public void NormIsComputedInDouble()
    {
        // 1e5 ones: a float running sum would be exact here, so use values whose squares round in float.
        var values = Enumerable.Range(0, 100_000).Select(i => 0.1 + i % 7 * 1e-3).ToArray();
        var p = Param(new double[values.Length]);
        SetGrad(p, values);
        double expected = Math.Sqrt(values.Sum(v => (double)(float)v * (float)v));
        Assert.Equal(expected, GradientClipping.ClipByGlobalNorm([p], 1e9f), 10);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void RejectsANonPositiveMaximum(float maxNorm)
    {
        var (a, _) = Pair();
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm([a], maxNorm));
    }
}
