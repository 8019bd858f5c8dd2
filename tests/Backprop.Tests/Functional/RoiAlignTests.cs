using Xunit.Abstractions;
using Xunit.Sdk;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class RoiAlignTests(ITestOutputHelper output)
{
    /// <summary>The upstream gradient of the fixtures (make_roi_fixtures.py): dy[i] = ((7 i) mod 11 − 5) / 8.</summary>
    internal static Tensor FixtureUpstream(Shape shape)
    {
        var d = new float[shape.Length];
        for (int i = 0; i < d.Length; i++) d[i] = ((7 * i) % 11 - 5) / 8f;
        return Tensor.FromArray(d, shape.ToArray());
    }

    /// <summary>Asserts within 1e-6·max(1, |e|) and reports the largest difference.</summary>
    internal static void AssertFixture(ITestOutputHelper output, float[] expected, float[] actual, string what)
    {
        AssertClose(expected, actual, 1e-6, what);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        output.WriteLine($"{what} OK, max diff {worst:G2}");
    }

    public static IEnumerable<object[]> AlignCases() => Enumerable.Range(0, RoiFixtures.Align.Length).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(AlignCases))]
    public void MatchesTorchvision(int index)
    {
        var c = RoiFixtures.Align[index];
        var x = Tensor.FromArray((float[])RoiFixtures.AlignInput.Clone(), RoiFixtures.InputShape);
        x.RequiresGrad = true;
        var rois = Tensor.FromArray(c.Rois, c.Rois.Length / 5, 5);
        var y = Backprop.Functional.RoiAlign(x, rois, (c.PooledHeight, c.PooledWidth), c.SpatialScale, c.SamplingRatio, c.Aligned);
        Assert.Equal(new Shape(c.Rois.Length / 5, RoiFixtures.InputShape[1], c.PooledHeight, c.PooledWidth), y.Shape);
        Assert.Equal("RoiAlignBackward", y.GradFn!.Name);
        AssertFixture(output, c.Y, y.ToArray(), $"roi_align {c.Name} forward");
        y.Backward(FixtureUpstream(y.Shape));
        AssertFixture(output, c.Dx, x.Grad!.ToArray(), $"roi_align {c.Name} input grad");
    }

    [Fact]
    public void AlignedSamplesAtPixelCentresReproduceTheInput()
    {
        // Aligned, one sample per bin, a RoI over the whole 4x5 map with 4x5 bins: each sample sits on a pixel centre.
        var x = Tensor.Arange(0, 20).Reshape(1, 1, 4, 5);
        var y = Backprop.Functional.RoiAlign(x, Tensor.FromArray([0f, 0, 0, 5, 4], 1, 5), (4, 5), samplingRatio: 1, aligned: true);
        Assert.Equal(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void InterpolatesALinearMapExactlyAndHalvesTheScale()
    {
        // x[h, w] = 5h + w. Unaligned RoI (1, 1)-(3, 3), one bin, 2x2 samples at 1.5 and 2.5: mean 5·2 + 2 = 12.
        var x = Tensor.Arange(0, 20).Reshape(1, 1, 4, 5);
        var rois = Tensor.FromArray([0f, 1, 1, 3, 3], 1, 5);
        Assert.Equal(12f, Backprop.Functional.RoiAlign(x, rois, (1, 1), samplingRatio: 2).ToArray()[0]);
        // The same box in image coordinates twice as large, with scale 1/2.
        var rois2 = Tensor.FromArray([0f, 2, 2, 6, 6], 1, 5);
        Assert.Equal(12f, Backprop.Functional.RoiAlign(x, rois2, (1, 1), 0.5f, 2).ToArray()[0]);
        // Aligned: the box moves by −0.5: samples at 1 and 2, mean 5·1.5 + 1.5 = 9.
        Assert.Equal(9f, Backprop.Functional.RoiAlign(x, rois, (1, 1), samplingRatio: 2, aligned: true).ToArray()[0]);
    }

    [Fact]
    public void EmptyAlignedRoiGivesZeroAndNoRoisGiveAnEmptyOutput()
    {
        var x = Tensor.Arange(1, 21).Reshape(1, 1, 4, 5);
        var y = Backprop.Functional.RoiAlign(x, Tensor.FromArray([0f, 2, 2, 2, 2], 1, 5), (2, 2), aligned: true);
        Assert.Equal([0f, 0f, 0f, 0f], y.ToArray());
        var none = Backprop.Functional.RoiAlign(Tensor.Zeros(2, 3, 4, 5), Tensor.Zeros(0, 5), (2, 2));
        Assert.Equal(new Shape(0, 3, 2, 2), none.Shape);
    }

    public static IEnumerable<object[]> GradientSettings()
    {
        foreach (bool aligned in new[] { false, true })
        foreach (int ratio in new[] { -1, 2 })
        foreach (float scale in new[] { 1f, 0.5f })
            yield return [aligned, ratio, scale];
    }

    [Theory]
    [MemberData(nameof(GradientSettings))]
    public void GradientMatchesFiniteDifferences(bool aligned, int ratio, float scale)
    {
        var x = Leaf(new Generator(41), 2, 3, 6, 7);
        // Feature coordinates: inside, over the top-left and bottom-right borders, tiny, empty, reversed; both images.
        float[] feature =
        [
            0, 1.2f, 0.7f, 5.1f, 4.6f,
            1, -2.2f, -1.6f, 3.1f, 2.4f,
            1, 3.4f, 2.5f, 8.9f, 7.7f,
            0, 2.3f, 3.1f, 2.6f, 3.3f,
            1, 4f, 4f, 4f, 4f,
            0, 5f, 4f, 3f, 1f,
            1, 0.5f, 0.5f, 6.5f, 5.5f,
        ];
        var rois = Tensor.FromArray(ToImage(feature, scale), feature.Length / 5, 5);
        GradientCheck.Check(xs => Backprop.Functional.RoiAlign(xs[0], rois, (2, 3), scale, ratio, aligned), [x], output,
            $"roi_align aligned={aligned} ratio={ratio} scale={scale}", ["input"]);
    }

    internal static float[] ToImage(float[] feature, float scale)
    {
        var r = (float[])feature.Clone();
        for (int i = 0; i < r.Length; i++) if (i % 5 != 0) r[i] /= scale;
        return r;
    }

    [Fact]
    public void RoisGetNoGradient()
    {
        var x = Leaf(new Generator(42), 1, 2, 4, 4);
        var rois = Tensor.FromArray([0f, 0.5f, 0.5f, 3, 3], 1, 5);
        rois.RequiresGrad = true;
        var y = Backprop.Functional.RoiAlign(x, rois, (2, 2), samplingRatio: 2);
        y.Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.Null(rois.Grad);
    }

    [Fact]
    public void ArgumentErrorsSayWhatAndWhere()
    {
        var x = Tensor.Zeros(2, 3, 4, 5);
        var good = Tensor.FromArray([0f, 0, 0, 2, 2], 1, 5);
        void Throws(Action a, string part)
        {
            var e = Assert.Throws<ArgumentException>(a);
            if (!e.Message.Contains(part, StringComparison.Ordinal)) throw new XunitException($"message '{e.Message}' lacks '{part}'");
        }
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.FromArray([0f, 0, 0, 2, 2, 2, 1, 1, 3, 3], 2, 5), (2, 2)), "row 1 has image index 2");
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.FromArray([0.5f, 0, 0, 2, 2], 1, 5), (2, 2)), "image index 0.5");
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.FromArray([-1f, 0, 0, 2, 2], 1, 5), (2, 2)), "image index -1");
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.FromArray([0f, 0, float.NaN, 2, 2], 1, 5), (2, 2)), "column 2");
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.Zeros(3, 4), (2, 2)), "(K, 5)");
        Throws(() => Backprop.Functional.RoiAlign(x, Tensor.Zeros(5), (2, 2)), "(K, 5)");
        Throws(() => Backprop.Functional.RoiAlign(Tensor.Zeros(3, 4, 5), good, (2, 2)), "(N, C, H, W)");
        Throws(() => Backprop.Functional.RoiAlign(x, good, (0, 2)), "output size");
        Throws(() => Backprop.Functional.RoiAlign(x, good, (2, 2), 0f), "spatial scale");
        Throws(() => Backprop.Functional.RoiAlign(x, good, (2, 2), float.PositiveInfinity), "spatial scale");
        Assert.Throws<ArgumentNullException>(() => Backprop.Functional.RoiAlign(x, null!, (2, 2)));
    }
}
