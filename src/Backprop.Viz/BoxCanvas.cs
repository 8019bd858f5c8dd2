using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// An image enlarged onto a bitmap, with boxes in the image's pixel coordinates drawn over it and optional captions:
/// the drawing surface of the detection pictures (<see cref="DetectionPicture"/>, <see cref="AnchorPicture"/>).
/// </summary>
internal sealed class BoxCanvas : IDisposable
{
    private readonly SKCanvas canvas;
    private readonly SKFont font;

    /// <param name="pixels">CHW image, 1 or 3 channels (RGB), values in [0, 1].</param>
    public BoxCanvas(int channels, int height, int width, float[] pixels, float scale, int margin = 0)
    {
        if (channels != 1 && channels != 3) throw new ArgumentException($"Pictures take 1- or 3-channel images, got {channels} channels.");
        if (scale <= 0 || (long)(width * scale + 2 * margin) * (long)(height * scale + 2 * margin) > 1L << 26)
            throw new ArgumentException($"A {width}x{height} image at scale {scale} is too large to draw.");
        Scale = scale;
        Margin = margin;
        Bitmap = new SKBitmap((int)MathF.Ceiling(width * scale) + 2 * margin, (int)MathF.Ceiling(height * scale) + 2 * margin, SKColorType.Rgba8888, SKAlphaType.Opaque);
        canvas = new SKCanvas(Bitmap);
        canvas.Clear(SKColors.White);
        using var image = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var bytes = new byte[width * height * 4];
        int plane = width * height;
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
                bytes[4 * i + c] = (byte)Math.Clamp(MathF.Round(pixels[(channels == 3 ? c * plane : 0) + i] * 255f), 0f, 255f);
            bytes[4 * i + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, image.GetPixels(), bytes.Length);
        using var smooth = new SKPaint { IsAntialias = true };
        canvas.DrawBitmap(image, new SKRect(margin, margin, margin + width * scale, margin + height * scale), smooth);
        font = new SKFont(Fonts.Sans, 12f * Math.Max(1f, scale / 2f));
    }

    /// <summary>The picture; disposed with the canvas (copy it to keep it).</summary>
    public SKBitmap Bitmap { get; }
    public float Scale { get; }
    public int Margin { get; }

    /// <summary>Draws a box given in image pixels (x1, y1, x2, y2).</summary>
    public void Box(float x1, float y1, float x2, float y2, SKColor color, float strokeWidth = 2f, bool dashed = false)
    {
        using var paint = new SKPaint { Color = color, IsStroke = true, StrokeWidth = strokeWidth, IsAntialias = true };
        using var dash = dashed ? SKPathEffect.CreateDash([6f, 4f], 0f) : null;
        paint.PathEffect = dash;
        canvas.DrawRect(SKRect.Create(Margin + x1 * Scale, Margin + y1 * Scale, (x2 - x1) * Scale, (y2 - y1) * Scale), paint);
    }

    /// <summary>A caption on a filled label at the top-left corner of a box (inside the picture).</summary>
    public void Caption(float x1, float y1, string text, SKColor background)
    {
        using var paint = new SKPaint { Color = background, IsAntialias = true };
        using var ink = new SKPaint { Color = SKColors.White, IsAntialias = true };
        float width = font.MeasureText(text), height = font.Size * 1.25f;
        float left = Math.Clamp(Margin + x1 * Scale, 0, Math.Max(0, Bitmap.Width - width - 4));
        float top = Math.Clamp(Margin + y1 * Scale - height, 0, Bitmap.Height - height);
        canvas.DrawRect(SKRect.Create(left, top, width + 4, height), paint);
        canvas.DrawText(text, left + 2, top + font.Size, SKTextAlign.Left, font, ink);
    }

    /// <summary>
    /// Panels side by side, 8 pixels apart, each under a white band holding its caption lines (readable on any image).
    /// The caller disposes the result; the panels stay the caller's.
    /// </summary>
    public static SKBitmap Titled(IReadOnlyList<(SKBitmap Panel, IReadOnlyList<string> Lines)> panels)
    {
        using var font = new SKFont(Fonts.Sans, 13f);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        float line = font.Size * 1.4f;
        int header = (int)MathF.Ceiling(panels.Max(p => p.Lines.Count) * line + 6);
        int width = panels.Sum(p => p.Panel.Width) + 8 * (panels.Count - 1), height = panels.Max(p => p.Panel.Height) + header;
        var picture = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(picture);
        canvas.Clear(SKColors.White);
        int left = 0;
        foreach (var (panel, lines) in panels)
        {
            for (int i = 0; i < lines.Count; i++) canvas.DrawText(lines[i], left + 4, (i + 1) * line, SKTextAlign.Left, font, ink);
            canvas.DrawBitmap(panel, left, header);
            left += panel.Width + 8;
        }
        return picture;
    }

    /// <summary>A colour per class that stays apart from its neighbours (hues spread by the golden angle).</summary>
    public static SKColor ClassColor(int label) => SKColor.FromHsv((label * 137.508f) % 360f, 85f, 85f);

    public void Dispose()
    {
        font.Dispose();
        canvas.Dispose();
        Bitmap.Dispose();
    }
}
