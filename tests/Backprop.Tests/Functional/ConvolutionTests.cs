using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class ConvolutionTests(ITestOutputHelper output)
{
    /// <summary>Convolution from its definition, in double: y[n,k,i,j] = b[k] + Σ x[n, g·Cg + c, i·s − p + u·d, j·s − p + v·d] · w[k, c, u, v].</summary>
    internal static double[] ReferenceConv(Tensor x, Tensor w, Tensor? b, int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int k = w.Shape[0], cg = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3];
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        Assert.Equal(c, cg * groups);
        int kg = k / groups;
        float[] xd = x.ToArray(), wt = w.ToArray();
        float[]? bd = b?.ToArray();
        var y = new double[n * k * oh * ow];
        for (int b0 = 0; b0 < n; b0++)
            for (int o = 0; o < k; o++)
            {
                int group = o / kg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double s = bd is null ? 0 : bd[o];
                        for (int ci = 0; ci < cg; ci++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++)
                                {
                                    int r = i * sh - ph + u * dh, q = j * sw - pw + v * dw;
                                    if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                                    s += (double)xd[((b0 * c + group * cg + ci) * h + r) * wd + q] * wt[((o * cg + ci) * kh + u) * kw + v];
                                }
                        y[((b0 * k + o) * oh + i) * ow + j] = s;
                    }
            }
        return y;
    }

    // n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias
    public static IEnumerable<object[]> Geometries => new object[][]
    {
        new object[] { 2, 3, 5, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, true },    // 1x1
        new object[] { 2, 3, 5, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, false },   // 1x1, no bias
        new object[] { 2, 3, 5, 5, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1, true },    // 1x1 stride 2
        new object[] { 2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true },    // 3x3 pad 1
        new object[] { 2, 2, 7, 6, 3, 5, 5, 1, 1, 0, 0, 1, 1, 1, true },    // 5x5
        new object[] { 3, 3, 5, 6, 2, 3, 2, 1, 1, 0, 0, 1, 1, 1, false },   // non-square 3x2, batch 3
        new object[] { 2, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, true },    // stride 2 pad 1
        new object[] { 2, 3, 8, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, false },   // stride 2 pad 1, even size
        new object[] { 3, 2, 7, 5, 3, 3, 3, 2, 1, 1, 0, 1, 1, 1, true },    // stride (2, 1), padding (1, 0)
        new object[] { 2, 2, 7, 7, 3, 3, 3, 1, 1, 1, 1, 2, 2, 1, true },    // dilation 2
        new object[] { 2, 2, 8, 7, 2, 3, 2, 1, 2, 2, 1, 2, 1, 1, true },    // dilation (2, 1), stride (1, 2)
        new object[] { 2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true },    // groups 2
        new object[] { 2, 3, 6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, false },   // depthwise
        new object[] { 2, 3, 5, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 3, true },    // depthwise, multiplier 2, stride 2
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesDefinition(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, bool bias)
    {
        var g = new Generator(11);
        var x = Tensor.Randn(g, n, c, h, w);
        var wt = Tensor.Randn(g, k, c / groups, kh, kw);
        var b = bias ? Tensor.Randn(g, k) : null;
        var y = Backprop.Functional.Conv2d(x, wt, b, (sh, sw), (ph, pw), (dh, dw), groups);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        Assert.Equal(new Shape(n, k, oh, ow), y.Shape);
        AssertClose(ReferenceConv(x, wt, b, sh, sw, ph, pw, dh, dw, groups), y.ToArray(), 1e-4, "conv output");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void GradientsMatchFiniteDifferences(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, bool bias)
    {
        var g = new Generator(12);
        var inputs = new List<Tensor> { Leaf(g, n, c, h, w), Leaf(g, k, c / groups, kh, kw) };
        if (bias) inputs.Add(Leaf(g, k));
        string label = $"conv {kh}x{kw} s({sh},{sw}) p({ph},{pw}) d({dh},{dw}) g{groups}";
        GradientCheck.Check(xs => Backprop.Functional.Conv2d(xs[0], xs[1], xs.Length > 2 ? xs[2] : null, (sh, sw), (ph, pw), (dh, dw), groups),
            inputs.ToArray(), output, label, ["input", "weight", "bias"]);
    }

    [Fact]
    public void GradientsWhenOnlySomeInputsNeedThem()
    {
        var g = new Generator(13);
        var x = Tensor.Randn(g, 2, 3, 5, 5);
        var w = Leaf(g, 4, 3, 3, 3);
        var b = Tensor.Randn(g, 4);
        GradientCheck.Check(xs => Backprop.Functional.Conv2d(xs[0], xs[1], xs[2], stride: 2, padding: 1), [x, w, b], output, "conv weight only", ["input", "weight", "bias"]);
        Assert.Null(x.Grad);

        var x2 = Leaf(g, 2, 3, 5, 5);
        var w2 = Tensor.Randn(g, 4, 3, 3, 3);
        var b2 = Leaf(g, 4);
        GradientCheck.Check(xs => Backprop.Functional.Conv2d(xs[0], xs[1], xs[2], padding: 1), [x2, w2, b2], output, "conv input and bias", ["input", "weight", "bias"]);
        Assert.Null(w2.Grad);

        var x3 = Tensor.Randn(g, 2, 3, 5, 5);
        var w3 = Tensor.Randn(g, 4, 3, 3, 3);
        var b3 = Leaf(g, 4);
        GradientCheck.Check(xs => Backprop.Functional.Conv2d(xs[0], xs[1], xs[2]), [x3, w3, b3], output, "conv bias only", ["input", "weight", "bias"]);
    }

    [Fact]
    public void SquareOverloadEqualsTupleOverload()
    {
        var g = new Generator(14);
        var x = Tensor.Randn(g, 2, 4, 7, 6);
        var w = Tensor.Randn(g, 4, 2, 3, 3);
        var b = Tensor.Randn(g, 4);
        var a = Backprop.Functional.Conv2d(x, w, b, stride: 2, padding: 1, dilation: 2, groups: 2);
        var t = Backprop.Functional.Conv2d(x, w, b, (2, 2), (1, 1), (2, 2), 2);
        Assert.Equal(a.ToArray(), t.ToArray());
    }

    [Fact]
    public void HandWorkedExample()
    {
        // 1x1x3x3 input 1..9, 2x2 kernel [[1, 0], [0, -1]], bias 0.5: y[i,j] = x[i,j] − x[i+1,j+1] + 0.5 = −4 + 0.5.
        var x = Tensor.Arange(1, 10).Reshape(1, 1, 3, 3);
        var w = Tensor.FromArray([1f, 0f, 0f, -1f], 1, 1, 2, 2);
        var y = Backprop.Functional.Conv2d(x, w, Tensor.FromArray([0.5f], 1));
        Assert.Equal(new Shape(1, 1, 2, 2), y.Shape);
        Assert.Equal([-3.5f, -3.5f, -3.5f, -3.5f], y.ToArray());
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var x = Tensor.Zeros(1, 3, 5, 5);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 2, 3, 3)));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 7, 7)));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(3)));
        // A kernel larger than the padded input has no output, even when a large stride would round the size up to 1.
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 7, 7), stride: 5));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), dilation: 3, stride: 4));
    }

    [Fact]
    public void OneByOneConvolutionEqualsLinearAtEveryPixel()
    {
        var conv = new Backprop.Nn.Conv2d(6, 4, 1, generator: new Generator(21));
        var fc = new Backprop.Nn.Linear(6, 4, generator: new Generator(22));
        conv.Weight.Reshape(4, 6).AsSpan().CopyTo(fc.Weight.AsSpan());
        conv.Bias!.AsSpan().CopyTo(fc.Bias!.AsSpan());
        var x = Tensor.Randn(new Generator(23), 2, 6, 5, 3);

        var byConv = conv.Forward(x).Permute(0, 2, 3, 1);       // (2, 5, 3, 4)
        var byLinear = fc.Forward(x.Permute(0, 2, 3, 1));      // (2, 5, 3, 6) -> (2, 5, 3, 4)
        Assert.Equal(byConv.Shape, byLinear.Shape);
        float[] a = byConv.ToArray(), b = byLinear.ToArray();
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        Assert.True(worst <= 1e-5, $"1x1 conv and linear differ by {worst}");
        output.WriteLine($"1x1 conv = linear, max diff {worst:G2}");
    }
}
