using SkiaSharp;

namespace Backprop.Tests.Vision;

/// <summary>Writes small test images with SkiaSharp, pixel by pixel, so tests know every value.</summary>
internal static class TestImages
{
    /// <summary>Encodes an <paramref name="height"/> × <paramref name="width"/> image whose pixel (y, x) is <paramref name="pixel"/>(y, x).</summary>
    public static byte[] Encode(int height, int width, Func<int, int, SKColor> pixel, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        // Raw RGBA bytes, not SetPixel: SetPixel goes through premultiplied colour and loses RGB under alpha 0.
        var bytes = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = pixel(y, x);
                int i = (y * width + x) * 4;
                (bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]) = (c.Red, c.Green, c.Blue, c.Alpha);
            }
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        return data.ToArray();
    }

    public static void WritePng(string path, int height, int width, Func<int, int, SKColor> pixel) =>
        File.WriteAllBytes(path, Encode(height, width, pixel));
}
