using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

public class FeatureMapsTests
{
    [Fact]
    public void ThreeMapsMakeANearSquareGrid()
    {
        // 3 maps of 4x5 at scale 2: ceil(sqrt 3) = 2 columns, 2 rows.
        var maps = Tensor.FromArray(Enumerable.Range(0, 60).Select(i => (float)i).ToArray(), 1, 3, 4, 5);
        using var b = SKBitmap.Decode(FeatureMaps.RenderPng(maps, new FilterGridOptions { Scale = 2 }));
        Assert.Equal(2 * 10 + 1, b.Width);
        Assert.Equal(2 * 8 + 1, b.Height);
        // Each map to its own range: the first value of map 2 is black, its last white; the empty 4th slot keeps the separator colour.
        Assert.Equal(SKColors.Black, b.GetPixel(0, 9));
        Assert.Equal(SKColors.White, b.GetPixel(9, 16));
        Assert.Equal(SKColors.White, b.GetPixel(15, 12));
    }

    [Fact]
    public void ABatchOfTwoIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureMaps.Render(Tensor.Zeros(2, 3, 4, 4)));
        Assert.Contains("one image", e.Message);
    }
}
