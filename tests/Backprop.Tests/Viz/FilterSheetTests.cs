using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

/// <summary>The labelled filter and feature-map pictures: size, captions, scale, and the channel summaries.</summary>
public class FilterSheetTests
{
    private static Tensor Random(params int[] shape)
    {
        var g = new Generator(7);
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (float)(g.NextDouble() * 2 - 1)).ToArray(), shape);
    }

    // Some pixel inside the label's box is dark: the text was really drawn there.
    private static void AssertDrawn(LabelledPicture picture, PictureLabel label)
    {
        bool dark = false;
        for (int y = Math.Max(0, label.Bounds.Top); y < Math.Min(picture.Bitmap.Height, label.Bounds.Bottom) && !dark; y++)
            for (int x = Math.Max(0, label.Bounds.Left); x < Math.Min(picture.Bitmap.Width, label.Bounds.Right) && !dark; x++)
                dark = picture.Bitmap.GetPixel(x, y).Red < 128;
        Assert.True(dark, $"label '{label.Text}' at {label.Bounds} has no ink");
        Assert.True(label.Bounds.Right <= picture.Bitmap.Width && label.Bounds.Left >= 0, $"label '{label.Text}' is cut off");
    }

    [Fact]
    public void LeNetConv2IsOneCaptionedTilePerFilter()
    {
        using var picture = FilterSheet.Render(Random(50, 20, 5, 5), "conv2");
        var texts = picture.Labels.Select(l => l.Text).ToList();
        Assert.Contains("conv2: 50 filters, 5×5, L2 norm over 20 input channels", texts);
        for (int f = 0; f < 50; f++) Assert.Contains(f.ToString(), texts);
        Assert.Contains("min", texts);
        Assert.Contains("max", texts);
        foreach (var label in picture.Labels) AssertDrawn(picture, label);
        // 8 columns x 7 rows of 40-pixel tiles: far smaller than the 819x2049 filters x channels wall, and wider than tall.
        Assert.InRange(picture.Bitmap.Width, 8 * 40, 600);
        Assert.InRange(picture.Bitmap.Height, 7 * 40, 600);
    }

    [Fact]
    public void SummariesAreTheL2NormAndTheMeanOverChannels()
    {
        var w = Tensor.FromArray([3, -1, 4, 1], 1, 2, 1, 2);   // channel 0: (3, -1), channel 1: (4, 1)
        Assert.Equal([5f, MathF.Sqrt(2)], FilterSheet.Summarise(w, mean: false).ToArray());
        Assert.Equal([3.5f, 0f], FilterSheet.Summarise(w, mean: true).ToArray());
    }

    [Fact]
    public void AllChannelsNumbersRowsAndColumns()
    {
        using var picture = FilterSheet.Render(Random(4, 3, 3, 3), "conv2", new FilterGridOptions { Color = false }, ChannelSummary.AllChannels);
        var texts = picture.Labels.Select(l => l.Text).ToList();
        Assert.Contains("input channel →", texts);
        Assert.Contains("filter 3", texts);
        Assert.Contains("2", texts);
        Assert.DoesNotContain("3", texts);   // channels 0..2 only
        foreach (var label in picture.Labels) AssertDrawn(picture, label);
    }

    [Fact]
    public void SharedRangeWritesTheNumbersOfTheScale()
    {
        var w = Tensor.FromArray([-0.5f, 0, 0, 2], 2, 1, 1, 2);
        using var picture = FilterSheet.Render(w, "conv1", new FilterGridOptions { Range = ValueRange.Shared });
        var texts = picture.Labels.Select(l => l.Text).ToList();
        Assert.Contains("-0.5", texts);
        Assert.Contains("2", texts);
        Assert.Contains("one scale for all", texts);
    }

    [Fact]
    public void SmallFeatureMapsAreScaledToReadableTiles()
    {
        // pool2 of LeNet: 50 maps of 4x4 were 4 pixels per value, 16-pixel tiles, a 135-pixel-wide picture.
        Assert.Equal(16, FeatureMaps.AutoScale(4, 4));
        Assert.Equal(3, FeatureMaps.AutoScale(24, 24));
        Assert.Equal(64, FeatureMaps.AutoScale(1, 1));
        using var picture = FeatureMaps.RenderLabelled(Random(1, 50, 4, 4), "pool2 output");
        Assert.True(picture.Bitmap.Width >= 8 * 64, $"{picture.Bitmap.Width} pixels wide");
        Assert.Contains("49", picture.Labels.Select(l => l.Text));
        Assert.Contains("of each map (own scale)", picture.Labels.Select(l => l.Text));
    }

    [Fact]
    public void PairedTilesCaptionEachPairAndNameBothSets()
    {
        using var picture = PairedTiles.Render(Random(3, 1, 5, 5), Random(3, 1, 5, 5), ["a", "b", "c"], "seed 1", "seed 2", "two runs");
        var texts = picture.Labels.Select(l => l.Text).ToList();
        Assert.Equal(3, texts.Count(t => t == "seed 1"));
        Assert.Equal(3, texts.Count(t => t == "seed 2"));
        Assert.Contains("c", texts);
        foreach (var label in picture.Labels) AssertDrawn(picture, label);
        Assert.Throws<ArgumentException>(() => PairedTiles.Render(Random(3, 1, 5, 5), Random(2, 1, 5, 5), ["a", "b", "c"], "x", "y", "t"));
    }
}
