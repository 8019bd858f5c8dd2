using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class Conv3dTests(ITestOutputHelper output)
{
    /// <summary>3-D convolution from its definition in plain loops and doubles.</summary>
    private static double[] Reference(Tensor x, Tensor w, Tensor? b, (int D, int H, int W) s, (int D, int H, int W) p, (int D, int H, int W) d, int groups)
    {
        int n = x.Shape[0], c = x.Shape[1], xd = x.Shape[2], xh = x.Shape[3], xw = x.Shape[4];
        int k = w.Shape[0], cg = w.Shape[1], kd = w.Shape[2], kh = w.Shape[3], kw = w.Shape[4], kg = k / groups;
        int od = (xd + 2 * p.D - d.D * (kd - 1) - 1) / s.D + 1, oh = (xh + 2 * p.H - d.H * (kh - 1) - 1) / s.H + 1, ow = (xw + 2 * p.W - d.W * (kw - 1) - 1) / s.W + 1;
        float[] xv = x.ToArray(), wv = w.ToArray();
        float[]? bv = b?.ToArray();
        var y = new double[n * k * od * oh * ow];
        int at = 0;
        for (int i = 0; i < n; i++)
        for (int o = 0; o < k; o++)
        for (int z = 0; z < od; z++)
        for (int r = 0; r < oh; r++)
        for (int q = 0; q < ow; q++, at++)
        {
            double sum = bv is null ? 0 : bv[o];
            for (int ci = 0; ci < cg; ci++)
            for (int a = 0; a < kd; a++)
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int iz = z * s.D - p.D + a * d.D, iy = r * s.H - p.H + u * d.H, ix = q * s.W - p.W + v * d.W;
                if (iz < 0 || iz >= xd || iy < 0 || iy >= xh || ix < 0 || ix >= xw) continue;
                int channel = o / kg * cg + ci;
                sum += (double)xv[(((i * c + channel) * xd + iz) * xh + iy) * xw + ix] * wv[(((o * cg + ci) * kd + a) * kh + u) * kw + v];
            }
            y[at] = sum;
        }
        return y;
    }

    // n, c, (d, h, w), k, (kd, kh, kw), stride, pad, dilation, groups, bias
    public static IEnumerable<object[]> Geometries => new object[][]
    {
        new object[] { 2, 2, new[] { 4, 5, 4 }, 3, new[] { 3, 3, 3 }, new[] { 1, 1, 1 }, new[] { 1, 1, 1 }, new[] { 1, 1, 1 }, 1, true },
        new object[] { 1, 3, new[] { 5, 4, 6 }, 2, new[] { 2, 3, 1 }, new[] { 2, 1, 3 }, new[] { 0, 1, 0 }, new[] { 1, 1, 1 }, 1, false },
        new object[] { 2, 4, new[] { 5, 5, 5 }, 2, new[] { 2, 2, 2 }, new[] { 1, 2, 1 }, new[] { 1, 0, 1 }, new[] { 2, 1, 2 }, 2, true },
    };

    private static (int, int, int) T(int[] v) => (v[0], v[1], v[2]);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesTheDefinition(int n, int c, int[] size, int k, int[] kernel, int[] stride, int[] pad, int[] dilation, int groups, bool bias)
    {
        var g = new Generator(31);
        var x = Tensor.Randn(g, n, c, size[0], size[1], size[2]);
        var w = Tensor.Randn(g, k, c / groups, kernel[0], kernel[1], kernel[2]);
        var b = bias ? Tensor.Randn(g, k) : null;
        var y = Backprop.Functional.Conv3d(x, w, b, T(stride), T(pad), T(dilation), groups).ToArray();
        var expected = Reference(x, w, b, T(stride), T(pad), T(dilation), groups);
        Assert.Equal(expected.Length, y.Length);
        double worst = 0;
        for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - expected[i]));
        output.WriteLine($"conv3d forward OK, max diff {worst:g2}");
        Assert.True(worst < 1e-4, $"max diff {worst}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void GradientsMatchFiniteDifferences(int n, int c, int[] size, int k, int[] kernel, int[] stride, int[] pad, int[] dilation, int groups, bool bias)
    {
        var g = new Generator(32);
        var inputs = new List<Tensor> { Leaf(g, n, c, size[0], size[1], size[2]), Leaf(g, k, c / groups, kernel[0], kernel[1], kernel[2]) };
        if (bias) inputs.Add(Leaf(g, k));
        GradientCheck.Check(xs => Backprop.Functional.Conv3d(xs[0], xs[1], xs.Length > 2 ? xs[2] : null, T(stride), T(pad), T(dilation), groups),
            inputs.ToArray(), output, "conv3d", ["input", "weight", "bias"]);
    }

    // Geometries whose convolution maps back exactly: (in + 2p − d(k−1) − 1) divisible by the stride on every axis.
    public static IEnumerable<object[]> ExactGeometries => new object[][]
    {
        new object[] { 2, 2, new[] { 4, 5, 4 }, 3, new[] { 3, 3, 3 }, new[] { 1, 1, 1 }, new[] { 1, 1, 1 }, new[] { 1, 1, 1 }, 1 },
        new object[] { 1, 4, new[] { 5, 3, 7 }, 2, new[] { 3, 2, 3 }, new[] { 2, 1, 2 }, new[] { 1, 0, 1 }, new[] { 1, 2, 1 }, 2 },
    };

    [Theory]
    [MemberData(nameof(ExactGeometries))]
    public void TransposedIsTheAdjointOfTheConvolution(int n, int c, int[] size, int k, int[] kernel, int[] stride, int[] pad, int[] dilation, int groups)
    {
        // <ConvTranspose3d(u), v> = <u, Conv3d(v)> for any u (conv output shaped) and v (conv input shaped), with the same weight.
        var g = new Generator(33);
        var v = Tensor.Randn(g, n, c, size[0], size[1], size[2]);
        var w = Tensor.Randn(g, k, c / groups, kernel[0], kernel[1], kernel[2]);
        var conv = Backprop.Functional.Conv3d(v, w, null, T(stride), T(pad), T(dilation), groups);
        var u = Tensor.Randn(g, conv.Shape.ToArray());
        var transposed = Backprop.Functional.ConvTranspose3d(u, w, null, T(stride), T(pad), T(dilation), groups);
        Assert.Equal(v.Shape, transposed.Shape);
        double left = 0, right = 0;
        float[] t = transposed.ToArray(), vd = v.ToArray(), ud = u.ToArray(), cd = conv.ToArray();
        for (int i = 0; i < t.Length; i++) left += (double)t[i] * vd[i];
        for (int i = 0; i < ud.Length; i++) right += (double)ud[i] * cd[i];
        output.WriteLine($"adjoint: {left} vs {right}");
        Assert.True(Math.Abs(left - right) < 1e-3 * Math.Max(1, Math.Abs(right)), $"{left} vs {right}");
    }

    [Fact]
    public void TransposedGradientsMatchFiniteDifferences()
    {
        var g = new Generator(34);
        GradientCheck.Check(xs => Backprop.Functional.ConvTranspose3d(xs[0], xs[1], xs[2], (2, 1, 2), (1, 0, 0), (1, 2, 1), 2),
            [Leaf(g, 2, 4, 2, 3, 2), Leaf(g, 4, 3, 2, 2, 3), Leaf(g, 6)], output, "deconv3d", ["input", "weight", "bias"]);
    }

    [Fact]
    public void ABadGeometryIsRefusedSayingWhy()
    {
        var e = Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv3d(Tensor.Ones(1, 1, 2, 4, 4), Tensor.Ones(1, 1, 3, 3, 3), null, (1, 1, 1), (0, 0, 0), (1, 1, 1)));
        Assert.Contains("smaller than the kernel", e.Message);
    }
}
