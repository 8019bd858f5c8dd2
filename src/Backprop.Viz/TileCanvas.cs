using System.Runtime.InteropServices;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// A picture made of rows × columns equal tiles, each an image of tileHeight × tileWidth cells upscaled by an
/// integer factor with nearest-neighbour (every cell becomes a scale × scale block), with a 1-pixel separator
/// between neighbouring tiles. Pixels are 8-bit RGBA, opaque.
/// </summary>
internal sealed class TileCanvas
{
    private readonly byte[] rgba;

    public TileCanvas(int rows, int columns, int tileHeight, int tileWidth, int scale, SKColor separator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        Rows = rows;
        Columns = columns;
        TileHeight = tileHeight;
        TileWidth = tileWidth;
        Scale = scale;
        long width = (long)columns * tileWidth * scale + columns - 1;
        long height = (long)rows * tileHeight * scale + rows - 1;
        if (width * height > 1L << 28)
            throw new ArgumentException($"A grid of {rows}x{columns} tiles of {tileHeight}x{tileWidth} at scale {scale} would be {width}x{height} pixels; use a smaller scale.");
        Width = (int)width;
        Height = (int)height;
        rgba = new byte[checked(Width * Height * 4)];
        for (int i = 0; i < rgba.Length; i += 4)
        {
            rgba[i] = separator.Red;
            rgba[i + 1] = separator.Green;
            rgba[i + 2] = separator.Blue;
            rgba[i + 3] = 255;
        }
    }

    public int Rows { get; }
    public int Columns { get; }
    public int TileHeight { get; }
    public int TileWidth { get; }
    public int Scale { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>The left pixel column of tile column <paramref name="column"/>.</summary>
    public int TileLeft(int column) => column * (TileWidth * Scale + 1);

    /// <summary>The top pixel row of tile row <paramref name="row"/>.</summary>
    public int TileTop(int row) => row * (TileHeight * Scale + 1);

    /// <summary>Paints cell (y, x) of tile (row, column) as a Scale × Scale block.</summary>
    public void SetCell(int row, int column, int y, int x, byte red, byte green, byte blue)
    {
        int top = TileTop(row) + y * Scale, left = TileLeft(column) + x * Scale;
        for (int dy = 0; dy < Scale; dy++)
        {
            int i = ((top + dy) * Width + left) * 4;
            for (int dx = 0; dx < Scale; dx++, i += 4)
            {
                rgba[i] = red;
                rgba[i + 1] = green;
                rgba[i + 2] = blue;
            }
        }
    }

    public SKBitmap ToBitmap()
    {
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    /// <summary>Maps <paramref name="value"/> from [min, max] to 0..255 (rounded); a constant range maps to 128.</summary>
    public static byte ToByte(float value, float min, float max)
    {
        if (!(max > min)) return 128;
        double t = (value - min) / ((double)max - min) * 255.0;
        return (byte)Math.Clamp(Math.Round(t, MidpointRounding.AwayFromZero), 0, 255);
    }

    /// <summary>Min and max over finite values (NaN and infinities are skipped); (0, 0) when none is finite.</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return min > max ? (0, 0) : (min, max);
    }
}
