using System.Globalization;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>How <see cref="FilterSheet"/> shows a filter that looks at several (non-colour) input channels.</summary>
public enum ChannelSummary
{
    /// <summary>One tile per filter: at each kernel position, the L2 norm of the weights over the input channels,
    /// √(Σ_c w[k, c, y, x]²). Shows where in its window a filter looks, whatever the sign of its weights.</summary>
    L2Norm,

    /// <summary>One tile per filter: the mean over the input channels. Keeps the sign, but opposite channels cancel.</summary>
    Mean,

    /// <summary>Every (filter, channel) kernel: K rows × C columns of tiles, rows and columns numbered.</summary>
    AllChannels,
}

/// <summary>
/// A labelled picture of a convolution layer's filters (K, C, KH, KW): a title that says what is shown, each tile
/// captioned with its filter number, and a gray scale that says what black and white mean. Filters with one input
/// channel, or three drawn in colour, are one tile each; other filters are summarised over their input channels as
/// <see cref="ChannelSummary"/> says (default the L2 norm), or drawn in full as a numbered filters × channels grid.
/// </summary>
public static class FilterSheet
{
    private const int Margin = 12, Gap = 6, TitleSize = 15, CaptionSize = 11, BarWidth = 200, BarHeight = 12;

    /// <summary>The labelled picture of <paramref name="weights"/>, titled with <paramref name="layer"/> (the caller disposes it).</summary>
    public static LabelledPicture Render(Tensor weights, string layer, FilterGridOptions? options = null, ChannelSummary summary = ChannelSummary.L2Norm)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(layer);
        options ??= new FilterGridOptions();
        var s = weights.Shape;
        if (s.Rank == 3 && s.Length > 0) weights = weights.Reshape(s[0], 1, s[1], s[2]);
        else if (s.Rank != 4 || s.Length == 0)
            throw new ArgumentException($"Filter weights must have shape (K, C, KH, KW) (or (K, KH, KW)), got {s}: is this a convolution layer's first blob?");
        int k = weights.Shape[0], c = weights.Shape[1], kh = weights.Shape[2], kw = weights.Shape[3];
        string size = $"{kh}×{kw}";
        if (c == 1) return Tiles(weights, $"{layer}: {k} filters, {size}", "filter", options);
        if (c == 3 && options.Color)
            return Tiles(weights, $"{layer}: {k} filters, {size}, 3 channels as {(options.Bgr ? "BGR" : "RGB")} colour", "filter", options);
        return summary switch
        {
            ChannelSummary.AllChannels => FullGrid(weights, $"{layer}: {k} filters × {c} input channels, {size}", options),
            ChannelSummary.Mean => Tiles(Summarise(weights, mean: true), $"{layer}: {k} filters, {size}, mean over {c} input channels", "filter", options),
            _ => Tiles(Summarise(weights, mean: false), $"{layer}: {k} filters, {size}, L2 norm over {c} input channels", "filter", options),
        };
    }

    /// <summary>Writes <see cref="Render"/>'s picture to <paramref name="path"/> as PNG.</summary>
    public static void Save(Tensor weights, string layer, string path, FilterGridOptions? options = null, ChannelSummary summary = ChannelSummary.L2Norm)
    {
        using var picture = Render(weights, layer, options, summary);
        picture.Save(path);
    }

    /// <summary>(K, C, KH, KW) → (K, 1, KH, KW): the channel mean, or the L2 norm over channels.</summary>
    internal static Tensor Summarise(Tensor weights, bool mean)
    {
        int k = weights.Shape[0], c = weights.Shape[1], plane = weights.Shape[2] * weights.Shape[3];
        float[] w = weights.ToArray(), result = new float[k * plane];
        for (int f = 0; f < k; f++)
            for (int i = 0; i < plane; i++)
            {
                double sum = 0;
                for (int ch = 0; ch < c; ch++)
                {
                    double v = w[(f * c + ch) * plane + i];
                    sum += mean ? v : v * v;
                }
                result[f * plane + i] = (float)(mean ? sum / c : Math.Sqrt(sum));
            }
        return Tensor.FromArray(result, k, 1, weights.Shape[2], weights.Shape[3]);
    }

    /// <summary>One tile per filter (or map), captioned with its number, in a near-square grid, then the scale.</summary>
    internal static LabelledPicture Tiles(Tensor tiles, string title, string noun, FilterGridOptions options)
    {
        int k = tiles.Shape[0];
        int columns = Math.Min(k, options.Columns ?? (int)Math.Ceiling(Math.Sqrt(k)));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns, nameof(options.Columns));
        int rows = (k + columns - 1) / columns;
        using var grid = FilterGrid.Render(tiles, options with { Columns = columns });
        int tileW = tiles.Shape[3] * options.Scale, tileH = tiles.Shape[2] * options.Scale;
        int captionW = SheetCanvas.TextWidth((k - 1).ToString(CultureInfo.InvariantCulture), CaptionSize);
        int cellW = Math.Max(tileW, captionW) + Gap, cellH = tileH + CaptionSize + 6 + Gap;
        int titleW = SheetCanvas.TextWidth(title, TitleSize);
        int top = Margin + TitleSize + 12;
        int width = Math.Max(Math.Max(columns * cellW - Gap, titleW), BarWidth + 150) + 2 * Margin;
        int height = top + rows * cellH + BarHeight + 2 * CaptionSize + 2 * Margin;
        var sheet = new SheetCanvas(width, height);
        sheet.Text(title, Margin, Margin, TitleSize);
        int gridLeft = Margin + Math.Max(0, (width - 2 * Margin - (columns * cellW - Gap)) / 2);
        for (int f = 0; f < k; f++)
        {
            int row = f / columns, column = f % columns;
            int left = gridLeft + column * cellW + (cellW - Gap - tileW) / 2, y = top + row * cellH;
            int sourceLeft = column * (tileW + 1), sourceTop = row * (tileH + 1);
            sheet.Draw(grid, new SKRectI(sourceLeft, sourceTop, sourceLeft + tileW, sourceTop + tileH), left, y);
            sheet.Text(f.ToString(CultureInfo.InvariantCulture), left + tileW / 2f, y + tileH + 1, CaptionSize, SKTextAlign.Center);
        }
        Scale(sheet, tiles, noun, options, top + rows * cellH + 4);
        return sheet.Finish();
    }

    /// <summary>Filters × channels: row labels (filter numbers) on the left, column labels (channels) on top.</summary>
    private static LabelledPicture FullGrid(Tensor weights, string title, FilterGridOptions options)
    {
        int k = weights.Shape[0], c = weights.Shape[1];
        using var grid = FilterGrid.Render(weights, options with { Color = false });
        int tileW = weights.Shape[3] * options.Scale, tileH = weights.Shape[2] * options.Scale;
        int labelW = SheetCanvas.TextWidth($"filter {k - 1}", CaptionSize) + 6;
        int titleW = SheetCanvas.TextWidth(title, TitleSize);
        int top = Margin + TitleSize + 12 + 2 * (CaptionSize + 4);
        int left = Margin + labelW;
        int width = Math.Max(Math.Max(left + grid.Width, Margin + titleW), Margin + BarWidth + 150) + Margin;
        int height = top + grid.Height + BarHeight + 2 * CaptionSize + 3 * Margin;
        var sheet = new SheetCanvas(width, height);
        sheet.Text(title, Margin, Margin, TitleSize);
        sheet.Text("input channel →", left, Margin + TitleSize + 10, CaptionSize);
        sheet.Draw(grid, new SKRectI(0, 0, grid.Width, grid.Height), left, top);
        for (int ch = 0; ch < c; ch++)
            sheet.Text(ch.ToString(CultureInfo.InvariantCulture), left + ch * (tileW + 1) + tileW / 2f, top - CaptionSize - 4, CaptionSize, SKTextAlign.Center);
        for (int f = 0; f < k; f++)
            sheet.Text($"filter {f}", left - 6, top + f * (tileH + 1) + (tileH - CaptionSize) / 2f, CaptionSize, SKTextAlign.Right);
        Scale(sheet, weights, "filter", options, top + grid.Height + Margin);
        return sheet.Finish();
    }

    /// <summary>The gray scale under the tiles, with what black and white mean.</summary>
    private static void Scale(SheetCanvas sheet, Tensor values, string noun, FilterGridOptions options, int top)
    {
        int left = Margin;
        for (int i = 0; i < BarWidth; i++)
        {
            byte g = (byte)Math.Round(255.0 * i / (BarWidth - 1));
            sheet.Rectangle(SKRect.Create(left + i, top, 1, BarHeight), new SKColor(g, g, g));
        }
        if (options.Range == ValueRange.Shared)
        {
            var (min, max) = TileCanvas.Range(values.ToArray());
            sheet.Text(Number(min), left, top + BarHeight + 2, CaptionSize);
            sheet.Text(Number(max), left + BarWidth, top + BarHeight + 2, CaptionSize, SKTextAlign.Right);
            sheet.Text("one scale for all", left + BarWidth + 10, top - 1, CaptionSize);
        }
        else
        {
            sheet.Text("min", left, top + BarHeight + 2, CaptionSize);
            sheet.Text("max", left + BarWidth, top + BarHeight + 2, CaptionSize, SKTextAlign.Right);
            sheet.Text($"of each {noun} (own scale)", left + BarWidth + 10, top - 1, CaptionSize);
        }
    }

    private static string Number(float v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
