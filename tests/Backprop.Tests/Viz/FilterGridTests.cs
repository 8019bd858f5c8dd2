using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

public class FilterGridTests
{
    private static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new InvalidOperationException("not a PNG");

    private static byte Gray(SKBitmap b, int x, int y)
    {
        var c = b.GetPixel(x, y);
        Assert.Equal(c.Red, c.Green);
        Assert.Equal(c.Red, c.Blue);
        return c.Red;
    }

    [Fact]
    public void TwoGrayFiltersDecodeToExpectedPixels()
    {
        // Filter 0: [[-1, 0], [0, 3]] → min -1 → 0, max 3 → 255, 0 → round(255/4) = 64.
        // Filter 1: [[10, 20], [30, 20]] → 10 → 0, 30 → 255, 20 → 128 (127.5 rounded away from zero).
        var w = Tensor.FromArray([-1, 0, 0, 3, 10, 20, 30, 20], 2, 1, 2, 2);
        string path = Path.Combine(Path.GetTempPath(), $"viz-filters-{Guid.NewGuid():N}.png");
        try
        {
            FilterGrid.Save(w, path, new FilterGridOptions { Scale = 3, Separator = new SKColor(255, 0, 0) });
            Assert.False(File.Exists(path + ".tmp"));
            using var b = Decode(File.ReadAllBytes(path));
            // Two tiles of 2x2 cells at scale 3, side by side, one separator column: 13 x 6.
            Assert.Equal(13, b.Width);
            Assert.Equal(6, b.Height);
            byte[,] expected0 = { { 0, 64 }, { 64, 255 } }, expected1 = { { 0, 128 }, { 255, 128 } };
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++)
                {
                    Assert.Equal(expected0[y / 3, x / 3], Gray(b, x, y));
                    Assert.Equal(expected1[y / 3, x / 3], Gray(b, 7 + x, y));
                }
            for (int y = 0; y < 6; y++) Assert.Equal(new SKColor(255, 0, 0), b.GetPixel(6, y));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SharedRangeUsesTheWholeTensor()
    {
        var w = Tensor.FromArray([0, 1, 2, 4], 2, 1, 1, 2);
        using var b = Decode(FilterGrid.RenderPng(w, new FilterGridOptions { Scale = 1, Range = ValueRange.Shared }));
        Assert.Equal((5, 1), (b.Width, b.Height));
        Assert.Equal(0, Gray(b, 0, 0));
        Assert.Equal(64, Gray(b, 1, 0));     // 1/4 * 255 = 63.75
        Assert.Equal(128, Gray(b, 3, 0));    // 2/4 * 255 = 127.5
        Assert.Equal(255, Gray(b, 4, 0));
    }

    [Fact]
    public void ManyChannelsGiveFiltersByChannels()
    {
        var w = Tensor.FromArray(Enumerable.Range(0, 2 * 4 * 3 * 3).Select(i => (float)i).ToArray(), 2, 4, 3, 3);
        using var b = FilterGrid.Render(w, new FilterGridOptions { Scale = 2 });
        Assert.Equal(4 * 6 + 3, b.Width);    // 4 channel columns
        Assert.Equal(2 * 6 + 1, b.Height);   // 2 filter rows
        // Filter 1 spans 36..71 over all its channels: its first value is black, its last white.
        Assert.Equal(0, Gray(b, 0, 7));
        Assert.Equal(255, Gray(b, b.Width - 1, b.Height - 1));
    }

    [Fact]
    public void ColorTilesReadBgrWeightsAsCaffeStoresThem()
    {
        // One 1x1 filter, channels (B, G, R) = (0, 1, 2): blue plane lowest, red highest.
        var w = Tensor.FromArray([0, 1, 2], 1, 3, 1, 1);
        using var bgr = Decode(FilterGrid.RenderPng(w, new FilterGridOptions { Scale = 1 }));
        Assert.Equal(new SKColor(255, 128, 0), bgr.GetPixel(0, 0));
        using var rgb = Decode(FilterGrid.RenderPng(w, new FilterGridOptions { Scale = 1, Bgr = false }));
        Assert.Equal(new SKColor(0, 128, 255), rgb.GetPixel(0, 0));
        using var gray = FilterGrid.Render(w, new FilterGridOptions { Scale = 1, Color = false });
        Assert.Equal((5, 1), (gray.Width, gray.Height));
    }

    [Fact]
    public void SideBySidePlacesGridsLeftToRight()
    {
        using var a = FilterGrid.Render(Tensor.FromArray([0, 1], 1, 1, 1, 2), new FilterGridOptions { Scale = 1 });
        using var c = FilterGrid.Render(Tensor.FromArray([1, 0, 0, 1], 1, 1, 2, 2), new FilterGridOptions { Scale = 1 });
        using var both = FilterGrid.SideBySide([a, c], gap: 3, background: SKColors.Blue);
        Assert.Equal((2 + 3 + 2, 2), (both.Width, both.Height));
        Assert.Equal(SKColors.Black, both.GetPixel(0, 0));
        Assert.Equal(SKColors.Blue, both.GetPixel(0, 1));   // below the shorter grid
        Assert.Equal(SKColors.White, both.GetPixel(5, 0));
    }

    [Fact]
    public void WrongRankIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterGrid.Render(Tensor.Zeros(10, 5)));
        Assert.Contains("(K, C, KH, KW)", e.Message);
    }
}
