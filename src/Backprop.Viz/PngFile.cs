using Backprop.IO;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>PNG encoding of pictures, and saving that never leaves a half-written file (temporary file, then rename).</summary>
public static class PngFile
{
    /// <summary>The bitmap encoded as PNG (lossless).</summary>
    public static byte[] Encode(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {bitmap.Width}x{bitmap.Height} {bitmap.ColorType} bitmap as PNG.");
        return data.ToArray();
    }

    /// <summary>Writes <paramref name="bitmap"/> to <paramref name="path"/> as PNG, atomically; creates the directory if needed.</summary>
    public static void Save(SKBitmap bitmap, string path) => WriteAtomically(path, Encode(bitmap));

    /// <summary>Writes bytes to <paramref name="path"/> through a temporary file renamed into place; creates the directory if needed.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bytes);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        AtomicFile.Write(path, s => s.Write(bytes));
    }
}
