using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class RoiPoolTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> PoolCases() => Enumerable.Range(0, RoiFixtures.Pool.Length).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MatchesTorchvision(int index)
    {
        var c = RoiFixtures.Pool[index];
        var x = Tensor.FromArray((float[])RoiFixtures.PoolInput.Clone(), RoiFixtures.InputShape);
        x.RequiresGrad = true;
        var rois = Tensor.FromArray(c.Rois, c.Rois.Length / 5, 5);
        var y = Backprop.Functional.RoiPool(x, rois, (c.PooledHeight, c.PooledWidth), c.SpatialScale);
        Assert.Equal(new Shape(c.Rois.Length / 5, RoiFixtures.InputShape[1], c.PooledHeight, c.PooledWidth), y.Shape);
        Assert.Equal("RoiPoolBackward", y.GradFn!.Name);
        RoiAlignTests.AssertFixture(output, c.Y, y.ToArray(), $"roi_pool {c.Name} forward");
        y.Backward(RoiAlignTests.FixtureUpstream(y.Shape));
        RoiAlignTests.AssertFixture(output, c.Dx, x.Grad!.ToArray(), $"roi_pool {c.Name} input grad");
    }

    [Fact]
    public void BinsByHand()
    {
        // x[h, w] = 5h + w on 4x5. RoI (0, 0)-(4, 3): 5 x 4 pixels, 2x2 bins of 2.5 x 2 pixels:
        // columns [0, 3) and [2, 5), rows [0, 2) and [2, 4); each maximum is the bin's bottom-right pixel.
        var x = Tensor.Arange(0, 20).Reshape(1, 1, 4, 5);
        x.RequiresGrad = true;
        var y = Backprop.Functional.RoiPool(x, Tensor.FromArray([0f, 0, 0, 4, 3, 0, 1.5f, 0.4f, 1.5f, 0.4f], 2, 5), (2, 2));
        // The second RoI rounds to the single pixel (2, 0) — 1.5 rounds away from zero: every bin is that pixel, value 2.
        Assert.Equal([7f, 9f, 17f, 19f, 2f, 2f, 2f, 2f], y.ToArray());
        y.Backward(Tensor.FromArray([1f, 2, 3, 4, 0.5f, 0.25f, 0.125f, 1], 2, 1, 2, 2));
        var dx = new float[20];
        dx[7] = 1; dx[9] = 2; dx[17] = 3; dx[19] = 4; dx[2] = 1.875f;
        Assert.Equal(dx, x.Grad!.ToArray());
    }

    [Fact]
    public void BinsOutsideTheMapGiveZeroAndNoGradient()
    {
        var x = Tensor.Full(-3f, 1, 1, 4, 5);
        x.RequiresGrad = true;
        // Rows 3..6 of a 4-row map: the bottom bin (rows 5..6) is empty; the top one sees row 3..4 -> only row 3.
        var y = Backprop.Functional.RoiPool(x, Tensor.FromArray([0f, 0, 3, 4, 6], 1, 5), (2, 1));
        Assert.Equal([-3f, 0f], y.ToArray());
        y.Backward(Tensor.FromArray([1f, 1f], 1, 1, 2, 1));
        Assert.Equal(1f, x.Grad!.ToArray().Sum());
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void GradientMatchesFiniteDifferences(float scale)
    {
        // Distinct values 0.05 apart: a ±0.01 step never changes a bin's maximum.
        var x = Distinct(new Generator(51), 0.05f, 2, 3, 6, 7);
        float[] feature =
        [
            0, 1, 1, 5, 4,
            1, -2, -1, 3, 2,
            1, 3, 2, 9, 8,
            0, 2, 3, 2, 3,
            1, 8, 7, 10, 9,
            0, 0, 0, 6, 5,
            0, 1, 1, 4, 4,
        ];
        var rois = Tensor.FromArray(RoiAlignTests.ToImage(feature, scale), feature.Length / 5, 5);
        GradientCheck.Check(xs => Backprop.Functional.RoiPool(xs[0], rois, (2, 3), scale), [x], output, $"roi_pool scale={scale}", ["input"]);
    }

    [Fact]
    public void RoisGetNoGradient()
    {
        var x = Distinct(new Generator(52), 0.05f, 1, 2, 4, 4);
        var rois = Tensor.FromArray([0f, 0, 0, 3, 3], 1, 5);
        rois.RequiresGrad = true;
        Backprop.Functional.RoiPool(x, rois, (2, 2)).Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.Null(rois.Grad);
    }

    [Fact]
    public void ArgumentErrors()
    {
        var x = Tensor.Zeros(2, 3, 4, 5);
        var good = Tensor.FromArray([1f, 0, 0, 2, 2], 1, 5);
        Assert.Contains("image index 2", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, Tensor.FromArray([2f, 0, 0, 2, 2], 1, 5), (2, 2))).Message);
        Assert.Contains("image index 1.5", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, Tensor.FromArray([1.5f, 0, 0, 2, 2], 1, 5), (2, 2))).Message);
        Assert.Contains("column 3", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, Tensor.FromArray([0f, 0, 0, float.PositiveInfinity, 2], 1, 5), (2, 2))).Message);
        Assert.Contains("(K, 5)", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, Tensor.Zeros(1, 6), (2, 2))).Message);
        Assert.Contains("output size", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, good, (2, -1))).Message);
        Assert.Contains("spatial scale", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(x, good, (2, 2), -0.5f)).Message);
        Assert.Contains("(N, C, H, W)", Assert.Throws<ArgumentException>(() => Backprop.Functional.RoiPool(Tensor.Zeros(2, 0, 4, 5), good, (2, 2))).Message);
    }
}
