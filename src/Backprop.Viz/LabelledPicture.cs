using SkiaSharp;

namespace Backprop.Viz;

/// <summary>A piece of text drawn on a picture and the box it covers, in pixels.</summary>
public sealed record PictureLabel(string Text, SKRectI Bounds);

/// <summary>A picture together with the text drawn on it (captions, axis labels, colour-scale values), so callers
/// and tests can tell what it says without reading pixels. The caller disposes it (it owns the bitmap).</summary>
public sealed class LabelledPicture(SKBitmap bitmap, IReadOnlyList<PictureLabel> labels) : IDisposable
{
    /// <summary>The pixels, RGBA, opaque.</summary>
    public SKBitmap Bitmap { get; } = bitmap;

    /// <summary>Every text drawn, in drawing order.</summary>
    public IReadOnlyList<PictureLabel> Labels { get; } = labels;

    /// <summary>The picture encoded as PNG.</summary>
    public byte[] ToPng() => PngFile.Encode(Bitmap);

    /// <summary>Writes the picture to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public void Save(string path) => PngFile.WriteAtomically(path, ToPng());

    /// <inheritdoc />
    public void Dispose() => Bitmap.Dispose();
}

/// <summary>A white canvas that draws text with <see cref="Fonts.Sans"/> and remembers every label it drew.</summary>
internal sealed class SheetCanvas : IDisposable
{
    private readonly SKBitmap bitmap;
    private readonly SKCanvas canvas;
    private readonly List<PictureLabel> labels = [];
    private readonly SKPaint ink = new() { Color = new SKColor(30, 30, 30), IsAntialias = true };

    public SheetCanvas(int width, int height)
    {
        bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
    }

    public SKCanvas Canvas => canvas;

    /// <summary>The width in pixels of <paramref name="text"/> at <paramref name="size"/> points.</summary>
    public static int TextWidth(string text, float size)
    {
        using var font = new SKFont(Fonts.Sans, size);
        return (int)Math.Ceiling(font.MeasureText(text));
    }

    /// <summary>Draws <paramref name="text"/> with its top at <paramref name="top"/>, aligned about <paramref name="x"/>.</summary>
    public void Text(string text, float x, float top, float size, SKTextAlign align = SKTextAlign.Left)
    {
        using var font = new SKFont(Fonts.Sans, size);
        float width = font.MeasureText(text);
        float left = align switch { SKTextAlign.Center => x - width / 2, SKTextAlign.Right => x - width, _ => x };
        canvas.DrawText(text, left, top + size, SKTextAlign.Left, font, ink);
        labels.Add(new PictureLabel(text, new SKRectI((int)Math.Floor(left), (int)Math.Floor(top),
            (int)Math.Ceiling(left + width), (int)Math.Ceiling(top + size * 1.3f))));
    }

    /// <summary>Copies <paramref name="source"/> (a sub-rectangle of <paramref name="from"/>) to (left, top).</summary>
    public void Draw(SKBitmap from, SKRectI source, int left, int top) =>
        canvas.DrawBitmap(from, source, SKRect.Create(left, top, source.Width, source.Height));

    public void Rectangle(SKRect rect, SKColor color)
    {
        using var paint = new SKPaint { Color = color };
        canvas.DrawRect(rect, paint);
    }

    /// <summary>The finished picture; the canvas cannot be used after.</summary>
    public LabelledPicture Finish()
    {
        canvas.Flush();
        canvas.Dispose();
        ink.Dispose();
        return new LabelledPicture(bitmap, labels.ToArray());
    }

    public void Dispose()
    {
        canvas.Dispose();
        ink.Dispose();
    }
}
