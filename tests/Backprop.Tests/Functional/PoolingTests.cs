using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class PoolingTests(ITestOutputHelper output)
{
    /// <summary>Output size from the definition: (in + 2p − k) / s + 1 rounded down or up; rounding up may not start a window in the right padding.</summary>
    private static int OutSize(int size, int k, int s, int p, bool ceil)
    {
        double q = (size + 2.0 * p - k) / s;
        int o = (int)(ceil ? Math.Ceiling(q) : Math.Floor(q)) + 1;
        if (ceil && (o - 1) * s >= size + p) o--;
        return o;
    }

    /// <summary>Max and average pooling from the definition, in double.</summary>
    private static double[] ReferencePool(Tensor x, bool max, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil, bool countIncludePad)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int oh = OutSize(h, kh, sh, ph, ceil), ow = OutSize(w, kw, sw, pw, ceil);
        float[] xd = x.ToArray();
        var y = new double[n * c * oh * ow];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int r0 = i * sh - ph, q0 = j * sw - pw;
                    // The window within the padded input [−p, in + p).
                    int r1 = Math.Min(r0 + kh, h + ph), q1 = Math.Min(q0 + kw, w + pw);
                    double best = double.NegativeInfinity, sum = 0;
                    int real = 0;
                    for (int r = r0; r < r1; r++)
                        for (int q = q0; q < q1; q++)
                        {
                            if (r < 0 || r >= h || q < 0 || q >= w) continue;
                            double v = xd[(p * h + r) * w + q];
                            best = Math.Max(best, v);
                            sum += v;
                            real++;
                        }
                    int divisor = countIncludePad ? (r1 - r0) * (q1 - q0) : real;
                    y[(p * oh + i) * ow + j] = max ? best : sum / divisor;
                }
        return y;
    }

    // n, c, h, w, kh, kw, sh, sw, ph, pw, ceil
    public static IEnumerable<object[]> Geometries => new object[][]
    {
        new object[] { 2, 3, 6, 7, 2, 2, 2, 2, 0, 0, false },   // k2 s2, odd width drops a column
        new object[] { 2, 2, 6, 6, 3, 3, 2, 2, 0, 0, true },    // Caffe: 6x6 k3 s2 ceil -> 3x3, last window clipped
        new object[] { 2, 2, 6, 6, 3, 3, 2, 2, 0, 0, false },   // floor -> 2x2
        new object[] { 2, 2, 7, 5, 3, 3, 2, 2, 1, 1, false },   // padding 1
        new object[] { 2, 2, 7, 7, 3, 3, 2, 2, 1, 1, true },    // ceil with padding
        new object[] { 2, 2, 8, 8, 3, 3, 2, 2, 1, 1, true },    // ceil with padding, the rule that drops a window in the padding
        new object[] { 2, 2, 5, 6, 3, 3, 1, 1, 1, 1, false },   // stride 1 (overlapping windows)
        new object[] { 2, 2, 7, 8, 2, 2, 3, 3, 0, 0, true },    // stride > kernel
        new object[] { 3, 2, 7, 6, 3, 2, 2, 1, 1, 0, false },   // kernel (3, 2), stride (2, 1), padding (1, 0)
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxForwardMatchesDefinition(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil)
    {
        var x = Tensor.Randn(new Generator(31), n, c, h, w);
        var y = Backprop.Functional.MaxPool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil);
        Assert.Equal(new Shape(n, c, OutSize(h, kh, sh, ph, ceil), OutSize(w, kw, sw, pw, ceil)), y.Shape);
        AssertClose(ReferencePool(x, true, kh, kw, sh, sw, ph, pw, ceil, true), y.ToArray(), 0, "max pool");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgForwardMatchesDefinition(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil)
    {
        var x = Tensor.Randn(new Generator(32), n, c, h, w);
        foreach (bool include in new[] { true, false })
        {
            var y = Backprop.Functional.AvgPool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil, include);
            Assert.Equal(new Shape(n, c, OutSize(h, kh, sh, ph, ceil), OutSize(w, kw, sw, pw, ceil)), y.Shape);
            AssertClose(ReferencePool(x, false, kh, kw, sh, sw, ph, pw, ceil, include), y.ToArray(), 1e-5, $"avg pool (countIncludePad {include})");
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxGradientMatchesFiniteDifferences(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil)
    {
        // Distinct values 0.05 apart: a ±0.01 step never changes which element is a window's maximum.
        var x = Distinct(new Generator(33), 0.05f, n, c, h, w);
        GradientCheck.Check(xs => Backprop.Functional.MaxPool2d(xs[0], (kh, kw), (sh, sw), (ph, pw), ceil), [x], output,
            $"max pool k({kh},{kw}) s({sh},{sw}) p({ph},{pw}) ceil={ceil}", ["input"]);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgGradientMatchesFiniteDifferences(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil)
    {
        var x = Leaf(new Generator(34), n, c, h, w);
        foreach (bool include in new[] { true, false })
            GradientCheck.Check(xs => Backprop.Functional.AvgPool2d(xs[0], (kh, kw), (sh, sw), (ph, pw), ceil, include), [x], output,
                $"avg pool k({kh},{kw}) s({sh},{sw}) p({ph},{pw}) ceil={ceil} countIncludePad={include}", ["input"]);
    }

    [Fact]
    public void CaffeSizes()
    {
        Assert.Equal(new Shape(1, 1, 12, 12), Backprop.Functional.MaxPool2d(Tensor.Zeros(1, 1, 24, 24), 2, 2).Shape);
        Assert.Equal(new Shape(1, 1, 12, 12), Backprop.Functional.MaxPool2d(Tensor.Zeros(1, 1, 24, 24), 2, 2, ceilMode: true).Shape);
        Assert.Equal(new Shape(1, 1, 3, 3), Backprop.Functional.MaxPool2d(Tensor.Zeros(1, 1, 6, 6), 3, 2, ceilMode: true).Shape);
        Assert.Equal(new Shape(1, 1, 2, 2), Backprop.Functional.MaxPool2d(Tensor.Zeros(1, 1, 6, 6), 3, 2).Shape);
        Assert.Equal(new Shape(1, 1, 3, 3), Backprop.Functional.AvgPool2d(Tensor.Zeros(1, 1, 6, 6), 3, 2, ceilMode: true).Shape);
        // Stride defaults to the kernel.
        Assert.Equal(new Shape(1, 1, 3, 2), Backprop.Functional.MaxPool2d(Tensor.Zeros(1, 1, 9, 7), 3).Shape);
    }

    [Fact]
    public void CeilModeClipsTheLastWindow()
    {
        // x[r, c] = 6r + c on a 6x6 plane; k3 s2 ceil: the last window covers rows/cols 4..5 only.
        var x = Tensor.Arange(0, 36).Reshape(1, 1, 6, 6);
        var max = Backprop.Functional.MaxPool2d(x, 3, 2, ceilMode: true);
        Assert.Equal([14f, 16f, 17f, 26f, 28f, 29f, 32f, 34f, 35f], max.ToArray());
        var avg = Backprop.Functional.AvgPool2d(x, 3, 2, ceilMode: true);
        // First window: rows 0..2, cols 0..2: mean 7. Last: {28, 29, 34, 35} / 4 = 31.5 (no padding, so 4 whether or not padding counts).
        Assert.Equal(7f, avg[0, 0, 0, 0]);
        Assert.Equal(31.5f, avg[0, 0, 2, 2]);
        Assert.Equal((4 + 5 + 10 + 11 + 16 + 17) / 6f, avg[0, 0, 0, 2], 5);
        Assert.Equal(avg.ToArray(), Backprop.Functional.AvgPool2d(x, 3, 2, ceilMode: true, countIncludePad: false).ToArray());
    }

    [Fact]
    public void CountIncludePadSemantics()
    {
        var ones = Tensor.Ones(1, 1, 3, 3);
        var include = Backprop.Functional.AvgPool2d(ones, 3, 1, padding: 1);
        var exclude = Backprop.Functional.AvgPool2d(ones, 3, 1, padding: 1, countIncludePad: false);
        // Corner windows hold 4 real elements of 9, edges 6, the centre 9.
        Assert.Equal([4 / 9f, 6 / 9f, 4 / 9f, 6 / 9f, 1f, 6 / 9f, 4 / 9f, 6 / 9f, 4 / 9f], include.ToArray());
        Assert.All(exclude.ToArray(), v => Assert.Equal(1f, v));
        // Max pooling ignores padding: all-negative inputs keep their values.
        var neg = Tensor.Full(-2f, 1, 1, 3, 3);
        Assert.All(Backprop.Functional.MaxPool2d(neg, 3, 1, 1).ToArray(), v => Assert.Equal(-2f, v));
    }

    [Fact]
    public void MaxGradientGoesToTheArgmax()
    {
        var x = Tensor.FromArray([1f, 5f, 2f, 3f, 0f, 4f, 9f, 8f, 7f, 6f, -1f, -2f, 0.5f, 0.25f, 11f, 10f], 1, 1, 4, 4);
        x.RequiresGrad = true;
        var y = Backprop.Functional.MaxPool2d(x, 2);
        Assert.Equal([5f, 9f, 7f, 11f], y.ToArray());
        y.Backward(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 1, 2, 2));
        Assert.Equal([0f, 1f, 0f, 0f, 0f, 0f, 2f, 0f, 3f, 0f, 0f, 0f, 0f, 0f, 4f, 0f], x.Grad!.ToArray());
    }

    private static double[] ReferenceAdaptive(Tensor x, int oh, int ow)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        float[] xd = x.ToArray();
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int r0 = (int)Math.Floor((double)i * h / oh), r1 = (int)Math.Ceiling((i + 1.0) * h / oh);
                    int q0 = (int)Math.Floor((double)j * w / ow), q1 = (int)Math.Ceiling((j + 1.0) * w / ow);
                    double s = 0;
                    for (int r = r0; r < r1; r++) for (int q = q0; q < q1; q++) s += xd[(p * h + r) * w + q];
                    y[(p * oh + i) * ow + j] = s / ((r1 - r0) * (q1 - q0));
                }
        return y;
    }

    [Theory]
    [InlineData(7, 5, 3, 2)]
    [InlineData(6, 6, 3, 3)]
    [InlineData(5, 7, 1, 1)]
    [InlineData(4, 5, 4, 5)]
    [InlineData(3, 2, 5, 4)]
    public void AdaptiveAvgForwardAndGradient(int h, int w, int oh, int ow)
    {
        var x = Leaf(new Generator(35), 2, 3, h, w);
        var y = Backprop.Functional.AdaptiveAvgPool2d(x, (oh, ow));
        Assert.Equal(new Shape(2, 3, oh, ow), y.Shape);
        AssertClose(ReferenceAdaptive(x, oh, ow), y.ToArray(), 1e-5, "adaptive avg pool");
        GradientCheck.Check(xs => Backprop.Functional.AdaptiveAvgPool2d(xs[0], (oh, ow)), [x], output, $"adaptive avg pool {h}x{w}->{oh}x{ow}", ["input"]);
    }

    [Fact]
    public void GlobalAvgPoolIsThePlaneMean()
    {
        var x = Leaf(new Generator(36), 2, 3, 5, 4);
        var y = Backprop.Functional.GlobalAvgPool2d(x);
        Assert.Equal(new Shape(2, 3, 1, 1), y.Shape);
        float[] xd = x.ToArray();
        var expected = new double[6];
        for (int p = 0; p < 6; p++) { for (int i = 0; i < 20; i++) expected[p] += xd[p * 20 + i]; expected[p] /= 20; }
        AssertClose(expected, y.ToArray(), 1e-5, "global avg pool");
        GradientCheck.Check(xs => Backprop.Functional.GlobalAvgPool2d(xs[0]), [x], output, "global avg pool", ["input"]);
    }

    [Fact]
    public void BadGeometriesAreRejected()
    {
        var x = Tensor.Zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.MaxPool2d(x, 2, 2, padding: 2));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.AvgPool2d(x, 5));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.MaxPool2d(Tensor.Zeros(4, 4), 2));
    }
}
