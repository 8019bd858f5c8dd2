using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// A picture of a convolution layer's filters from its weight tensor (K, C, KH, KW) (K filters, C input
/// channels, KH × KW kernel). With one input channel each filter is one gray tile, K tiles in a near-square
/// grid; with three input channels (a first layer looking at colour images) each filter is one colour tile;
/// otherwise the grid has K rows (filters) × C columns (input channels) of gray tiles. Each filter is
/// normalised over all its channels to its own min..max → 0..255 (or, as an option, the whole tensor's range),
/// upscaled with nearest-neighbour, with 1-pixel separators between tiles.
/// </summary>
public static class FilterGrid
{
    /// <summary>The grid as an RGBA bitmap (the caller disposes it).</summary>
    /// <param name="weights">(K, C, KH, KW), or (K, KH, KW) read as C = 1.</param>
    public static SKBitmap Render(Tensor weights, FilterGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new FilterGridOptions();
        var (k, c, kh, kw) = Dimensions(weights.Shape);
        float[] w = weights.ToArray();
        int filterSize = c * kh * kw;
        var ranges = new (float Min, float Max)[k];
        var shared = TileCanvas.Range(w);
        for (int f = 0; f < k; f++)
            ranges[f] = options.Range == ValueRange.Shared ? shared : TileCanvas.Range(w.AsSpan(f * filterSize, filterSize));

        bool color = c == 3 && options.Color;
        if (c == 1 || color)
        {
            int columns = options.Columns ?? (int)Math.Ceiling(Math.Sqrt(k));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns, nameof(options.Columns));
            columns = Math.Min(columns, k);
            int rows = (k + columns - 1) / columns;
            var canvas = new TileCanvas(rows, columns, kh, kw, options.Scale, options.Separator);
            int plane = kh * kw;
            // Colour weights in BGR order: plane 0 is blue. In RGB order plane 0 is red.
            int red = options.Bgr ? 2 : 0, blue = options.Bgr ? 0 : 2;
            for (int f = 0; f < k; f++)
            {
                var (min, max) = ranges[f];
                int row = f / columns, column = f % columns, start = f * filterSize;
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                    {
                        int i = start + y * kw + x;
                        if (color)
                            canvas.SetCell(row, column, y, x, TileCanvas.ToByte(w[i + red * plane], min, max),
                                TileCanvas.ToByte(w[i + plane], min, max), TileCanvas.ToByte(w[i + blue * plane], min, max));
                        else
                        {
                            byte g = TileCanvas.ToByte(w[i], min, max);
                            canvas.SetCell(row, column, y, x, g, g, g);
                        }
                    }
            }
            return canvas.ToBitmap();
        }

        var grid = new TileCanvas(k, c, kh, kw, options.Scale, options.Separator);
        for (int f = 0; f < k; f++)
        {
            var (min, max) = ranges[f];
            for (int ch = 0; ch < c; ch++)
            {
                int start = f * filterSize + ch * kh * kw;
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                    {
                        byte g = TileCanvas.ToByte(w[start + y * kw + x], min, max);
                        grid.SetCell(f, ch, y, x, g, g, g);
                    }
            }
        }
        return grid.ToBitmap();
    }

    /// <summary>The grid encoded as PNG.</summary>
    public static byte[] RenderPng(Tensor weights, FilterGridOptions? options = null)
    {
        using var bitmap = Render(weights, options);
        return PngFile.Encode(bitmap);
    }

    /// <summary>Writes the grid to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public static void Save(Tensor weights, string path, FilterGridOptions? options = null) =>
        PngFile.WriteAtomically(path, RenderPng(weights, options));

    /// <summary>
    /// Two or more grids side by side, left to right, top-aligned, separated by <paramref name="gap"/> pixels of
    /// <paramref name="background"/> (default white): to compare the filters two seeds found.
    /// </summary>
    public static SKBitmap SideBySide(IReadOnlyList<SKBitmap> grids, int gap = 8, SKColor? background = null)
    {
        ArgumentNullException.ThrowIfNull(grids);
        if (grids.Count == 0) throw new ArgumentException("SideBySide needs at least one picture.", nameof(grids));
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        int width = grids.Sum(g => g.Width) + gap * (grids.Count - 1);
        int height = grids.Max(g => g.Height);
        var result = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(result);
        canvas.Clear(background ?? SKColors.White);
        int left = 0;
        foreach (var g in grids)
        {
            canvas.DrawBitmap(g, left, 0);
            left += g.Width + gap;
        }
        canvas.Flush();
        return result;
    }

    private static (int K, int C, int KH, int KW) Dimensions(Shape shape) => shape.Rank switch
    {
        4 when shape.Length > 0 => (shape[0], shape[1], shape[2], shape[3]),
        3 when shape.Length > 0 => (shape[0], 1, shape[1], shape[2]),
        _ => throw new ArgumentException($"Filter weights must have shape (K, C, KH, KW) (or (K, KH, KW)), got {shape}: is this a convolution layer's first blob?"),
    };
}
