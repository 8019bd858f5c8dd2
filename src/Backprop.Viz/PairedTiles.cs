using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// Two sets of one-tile filters (K, C, KH, KW) compared pair by pair: tile i of <c>left</c> beside tile i of
/// <c>right</c>, each pair captioned (its similarity, say), the pairs in a grid under column headers that name
/// the two sets. For two runs' conv1 filters matched one-to-one.
/// </summary>
public static class PairedTiles
{
    private const int Margin = 12, TitleSize = 15, CaptionSize = 11, PairGap = 4, CellGap = 18;

    /// <summary>The labelled picture (the caller disposes it). <paramref name="captions"/> has one line per pair.</summary>
    public static LabelledPicture Render(Tensor left, Tensor right, IReadOnlyList<string> captions, string leftName, string rightName,
                                         string title, FilterGridOptions? options = null, int pairsPerRow = 4)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(captions);
        if (left.Shape != right.Shape) throw new ArgumentException($"The two filter sets differ in shape: {left.Shape} and {right.Shape}.");
        int k = left.Shape[0];
        if (captions.Count != k) throw new ArgumentException($"{k} pairs need {k} captions, got {captions.Count}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pairsPerRow);
        options ??= new FilterGridOptions { Scale = 12 };
        // One row of tiles each, so tile i starts at i * (tileW + 1).
        using var a = FilterGrid.Render(left, options with { Columns = k });
        using var b = FilterGrid.Render(right, options with { Columns = k });
        int tileW = (a.Width - (k - 1)) / k, tileH = a.Height;
        int captionW = captions.Max(c => SheetCanvas.TextWidth(c, CaptionSize));
        int pairW = 2 * tileW + PairGap, cellW = Math.Max(pairW, captionW) + CellGap;
        int cellH = CaptionSize + 4 + tileH + CaptionSize + 8 + CellGap / 2;
        int columns = Math.Min(pairsPerRow, k), rows = (k + columns - 1) / columns;
        int top = Margin + TitleSize + 12;
        int width = Math.Max(columns * cellW - CellGap, SheetCanvas.TextWidth(title, TitleSize)) + 2 * Margin;
        var sheet = new SheetCanvas(width, top + rows * cellH + Margin);
        sheet.Text(title, Margin, Margin, TitleSize);
        for (int i = 0; i < k; i++)
        {
            int row = i / columns, column = i % columns;
            int x = Margin + column * cellW + (cellW - CellGap - pairW) / 2, y = top + row * cellH;
            sheet.Text(leftName, x + tileW / 2f, y, CaptionSize, SKTextAlign.Center);
            sheet.Text(rightName, x + tileW + PairGap + tileW / 2f, y, CaptionSize, SKTextAlign.Center);
            int tileTop = y + CaptionSize + 4, source = i * (tileW + 1);
            sheet.Draw(a, new SKRectI(source, 0, source + tileW, tileH), x, tileTop);
            sheet.Draw(b, new SKRectI(source, 0, source + tileW, tileH), x + tileW + PairGap, tileTop);
            sheet.Text(captions[i], x + pairW / 2f, tileTop + tileH + 2, CaptionSize, SKTextAlign.Center);
        }
        return sheet.Finish();
    }
}
