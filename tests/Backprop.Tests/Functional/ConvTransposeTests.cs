using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class ConvTransposeTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> CaseNames => ConvTransposeFixtures.Cases.Select(c => new object[] { c.Name });

    /// <summary>Forward and all three gradients against PyTorch 1.13's conv_transpose2d (fixture written by make_conv_transpose_fixtures.py).</summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        var c = ConvTransposeFixtures.Cases.Single(x => x.Name == name);
        var x = Tensor.FromArray(c.Input, c.InputShape);
        var w = Tensor.FromArray(c.Weight, c.WeightShape);
        var b = c.Bias is null ? null : Tensor.FromArray(c.Bias, c.Bias.Length);
        x.RequiresGrad = w.RequiresGrad = true;
        if (b is not null) b.RequiresGrad = true;
        var y = Backprop.Functional.ConvTranspose2d(x, w, b, c.Stride, c.Padding, c.Dilation, c.Groups);
        Assert.Equal(new Shape(c.OutputShape), y.Shape);
        y.Backward(Tensor.FromArray(c.Upstream, c.OutputShape));
        Near(name + " output", c.Output, y.ToArray());
        Near(name + " input grad", c.InputGradient, x.Grad!.ToArray());
        Near(name + " weight grad", c.WeightGradient, w.Grad!.ToArray());
        if (b is not null) Near(name + " bias grad", c.BiasGradient!, b.Grad!.ToArray());
    }

    private void Near(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i]));
            Assert.True(d < 1e-4, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
            worst = Math.Max(worst, d);
        }
        output.WriteLine($"{what} OK, max diff {worst:g2}");
    }

    // n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias
    public static IEnumerable<object[]> Geometries => new object[][]
    {
        new object[] { 2, 3, 3, 4, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, true },
        new object[] { 2, 2, 3, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, true },    // FCN-style upsampling x2
        new object[] { 1, 4, 3, 2, 2, 3, 2, 2, 3, 1, 0, 2, 1, 2, false },   // groups, dilation, uneven stride
        new object[] { 2, 3, 4, 3, 3, 1, 1, 2, 2, 0, 0, 1, 1, 3, true },    // depthwise 1x1 stride 2 (gaps in the output)
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void GradientsMatchFiniteDifferences(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, bool bias)
    {
        var g = new Generator(15);
        var inputs = new List<Tensor> { Leaf(g, n, c, h, w), Leaf(g, c, k / groups, kh, kw) };
        if (bias) inputs.Add(Leaf(g, k));
        GradientCheck.Check(xs => Backprop.Functional.ConvTranspose2d(xs[0], xs[1], xs.Length > 2 ? xs[2] : null, (sh, sw), (ph, pw), (dh, dw), groups),
            inputs.ToArray(), output, $"deconv {kh}x{kw} s({sh},{sw}) p({ph},{pw}) d({dh},{dw}) g{groups}", ["input", "weight", "bias"]);
    }

    [Fact]
    public void OutputSizeIsCaffesDeconvolutionRule()
    {
        // (in - 1) * stride - 2 * pad + dilation * (k - 1) + 1: 4 -> 3*2 - 2 + 3 + 1 = 8.
        var y = Backprop.Functional.ConvTranspose2d(Tensor.Ones(1, 1, 4, 4), Tensor.Ones(1, 1, 4, 4), null, stride: 2, padding: 1);
        Assert.Equal(new Shape(1, 1, 8, 8), y.Shape);
        // One input pixel of value 1 with a 2x2 kernel of 1..4 and stride 2 writes the kernel at its place, by hand.
        var one = Backprop.Functional.ConvTranspose2d(Tensor.FromArray([0, 0, 0, 1f], 1, 1, 2, 2), Tensor.FromArray([1, 2, 3, 4f], 1, 1, 2, 2), null, stride: 2);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4 }, one.ToArray());
    }

    [Fact]
    public void BadShapesAreRefusedSayingWhy()
    {
        var e = Assert.Throws<ArgumentException>(() => Backprop.Functional.ConvTranspose2d(Tensor.Ones(1, 3, 4, 4), Tensor.Ones(2, 1, 3, 3)));
        Assert.Contains("3 channels", e.Message);
        e = Assert.Throws<ArgumentException>(() => Backprop.Functional.ConvTranspose2d(Tensor.Ones(1, 1, 1, 1), Tensor.Ones(1, 1, 3, 3), padding: 2));
        Assert.Contains("padding is too large", e.Message);
    }
}
