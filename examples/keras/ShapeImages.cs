using Backprop;
using SkiaSharp;

namespace KerasShapes;

/// <summary>
/// Writes the example's dataset: RGB PNG images of one filled shape each, in one folder per class
/// (<c>circles/</c>, <c>squares/</c>), the layout Keras's <c>image_dataset_from_directory</c> reads. Each image has a
/// random dark background colour, a shape of random size and light colour near the centre, and per-pixel noise. The same seed writes the same files.
/// </summary>
/// <remarks>
/// The shapes stay near the centre (within 1/8 of the image) because the tutorial's model ends in a Dense layer
/// over every position of the feature maps: it learns where to look, so a shape anywhere would need many more
/// images to learn. A circle and a square of the same width differ at the corners of their bounding box, along
/// the diagonals through the centre, which is what the model learns to look at.
/// </remarks>
public static class ShapeImages
{
    /// <summary>The class folders, in label order (alphabetical, as the loader sorts them).</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["circles", "squares"];

    /// <summary>Writes <paramref name="perClass"/> images of <paramref name="size"/> × <paramref name="size"/> pixels per class under <paramref name="directory"/>.</summary>
    public static void Write(string directory, int perClass, int size, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        var generator = new Generator(seed);
        foreach (var name in ClassNames) Directory.CreateDirectory(Path.Combine(directory, name));
        for (int i = 0; i < perClass; i++)
            for (int label = 0; label < ClassNames.Count; label++)
                File.WriteAllBytes(Path.Combine(directory, ClassNames[label], $"{i:D5}.png"), Draw(label == 0, size, generator));
    }

    /// <summary>One PNG: a circle or a square on a plain background, with noise.</summary>
    public static byte[] Draw(bool circle, int size, Generator generator)
    {
        var background = RandomColor(generator, 0, 100);
        var foreground = RandomColor(generator, 140, 256);
        // The square's side equals the circle's diameter, so size says nothing about the class.
        float side = size * (0.5f + 0.25f * generator.NextFloat());
        float shift = size / 16f;
        float left = Math.Clamp((size - side) / 2 + shift * (2 * generator.NextFloat() - 1), 0, size - side);
        float top = Math.Clamp((size - side) / 2 + shift * (2 * generator.NextFloat() - 1), 0, size - side);

        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = foreground, IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            canvas.Clear(background);
            if (circle) canvas.DrawCircle(left + side / 2, top + side / 2, side / 2, paint);
            else canvas.DrawRect(left, top, side, side, paint);
        }
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < pixels.Length; i++)
        {
            if (i % 4 == 3) continue;   // alpha stays opaque
            int noisy = pixels[i] + (int)MathF.Round(12 * generator.NextNormal());
            pixels[i] = (byte)Math.Clamp(noisy, 0, 255);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A colour with each of R, G, B drawn from <paramref name="low"/>..<paramref name="high"/> − 1.</summary>
    private static SKColor RandomColor(Generator generator, int low, int high) =>
        new((byte)(low + generator.NextInt(high - low)), (byte)(low + generator.NextInt(high - low)), (byte)(low + generator.NextInt(high - low)));
}
