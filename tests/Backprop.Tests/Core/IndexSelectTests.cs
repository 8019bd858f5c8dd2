using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.Core;

public class IndexSelectTests(ITestOutputHelper output)
{
    // x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]: (3, 4)
    private static Tensor Grid() => Tensor.Arange(12).Reshape(3, 4);

    [Fact]
    public void RowsInGivenOrderWithRepeats()
    {
        var y = Grid().IndexSelect(0, [2, 0, 2]);
        Assert.Equal(new Shape(3, 4), y.Shape);
        Assert.Equal(new float[] { 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11 }, y.ToArray());
    }

    [Fact]
    public void ColumnsByNegativeAxis()
    {
        var y = Grid().IndexSelect(-1, [3, 1]);
        Assert.Equal(new Shape(3, 2), y.Shape);
        Assert.Equal(new float[] { 3, 1, 7, 5, 11, 9 }, y.ToArray());
    }

    [Fact]
    public void MiddleAxisOfRankThree()
    {
        // x[n, c, k] = 100n + 10c + k, shape (2, 3, 2); pick c = 1, 1, 0.
        var x = Tensor.Zeros(2, 3, 2);
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int k = 0; k < 2; k++) x[n, c, k] = 100 * n + 10 * c + k;
        var y = x.IndexSelect(1, [1, 1, 0]);
        Assert.Equal(new Shape(2, 3, 2), y.Shape);
        Assert.Equal(new float[] { 10, 11, 10, 11, 0, 1, 110, 111, 110, 111, 100, 101 }, y.ToArray());
    }

    [Fact]
    public void EmptyIndicesGiveSizeZeroAxis()
    {
        var x = Grid();
        x.RequiresGrad = true;
        var y = x.IndexSelect(0, []);
        Assert.Equal(new Shape(0, 4), y.Shape);
        Assert.Empty(y.ToArray());
        Assert.Equal(new Shape(3, 0), Grid().IndexSelect(1, []).Shape);
        // Backward of an empty selection gives a zero gradient.
        y.Backward(Tensor.Zeros(0, 4));
        Assert.Equal(new float[12], x.Grad!.ToArray());
    }

    [Fact]
    public void OutOfRangeIndexNamesIndexAndPosition()
    {
        var e = Assert.Throws<ArgumentException>(() => Grid().IndexSelect(0, [0, 3]));
        Assert.Contains("index 3 at position 1", e.Message);
        Assert.Contains("(3, 4)", e.Message);
        var neg = Assert.Throws<ArgumentException>(() => Grid().IndexSelect(1, [1, 2, -1]));
        Assert.Contains("index -1 at position 2", neg.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Grid().IndexSelect(2, [0]));
    }

    [Fact]
    public void BackwardScatterAddsRepeats()
    {
        var x = Tensor.Zeros(3, 2);
        x.RequiresGrad = true;
        var y = x.IndexSelect(0, [1, 1, 2, 1]);
        Assert.Equal("IndexSelectBackward", y.GradFn!.Name);
        y.Backward(Tensor.FromArray([1, 2, 10, 20, 100, 200, 1000, 2000], 4, 2));
        // Row 0 is never picked; row 1 gets 1 + 10 + 1000 and 2 + 20 + 2000; row 2 gets 100, 200.
        Assert.Equal(new float[] { 0, 0, 1011, 2022, 100, 200 }, x.Grad!.ToArray());
    }

    [Fact]
    public void GradientCheckWithRepeats()
    {
        var x = Leaf(new Generator(5), 2, 4, 3);
        GradientCheck.Check(xs => xs[0].IndexSelect(1, [3, 0, 3, 3, 1]), [x], output, "index_select axis 1 with repeats", ["x"]);
        GradientCheck.Check(xs => xs[0].IndexSelect(-1, [2, 2, 0]), [x], output, "index_select axis -1 with repeats", ["x"]);
    }

    [Fact]
    public void RecordsNothingWithoutGrad()
    {
        Assert.Null(Grid().IndexSelect(0, [1]).GradFn);
    }
}
