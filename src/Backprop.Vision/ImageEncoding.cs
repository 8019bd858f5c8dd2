using System.Runtime.InteropServices;
using SkiaSharp;

namespace Backprop.Vision;

/// <summary>
/// Encodes images to PNG or JPEG bytes (what Caffe's convert_imageset --encoded stores), and tells a gray encoded image
/// from a colour one without decoding its pixels (OpenCV's IMREAD_ANYCOLOR keeps a gray image at one channel).
/// </summary>
public static class ImageEncoding
{
    /// <summary>The formats <see cref="Encode"/> writes, by the names Caffe's --encode_type takes.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["png", "jpg", "jpeg"];

    /// <summary>
    /// Encodes <paramref name="image"/> (1 channel gray, or 3 channels in B, G, R order as <see cref="ImageFile"/> decodes
    /// them; values 0..255, rounded and clamped) as <paramref name="format"/>: png (lossless) or jpg (quality
    /// <paramref name="jpegQuality"/>, OpenCV's default 95).
    /// </summary>
    public static byte[] Encode(Image image, string format, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(format);
        var encoded = format.ToLowerInvariant() switch
        {
            "png" => SKEncodedImageFormat.Png,
            "jpg" or "jpeg" => SKEncodedImageFormat.Jpeg,
            _ => throw new ArgumentException($"Cannot encode images as '{format}'; the formats are {string.Join(", ", Formats)}.", nameof(format)),
        };
        if (image.Channels is not (1 or 3)) throw new ArgumentException($"Only 1- or 3-channel images can be encoded, not {image.Channels}.", nameof(image));
        int plane = image.Height * image.Width;
        bool gray = image.Channels == 1;
        var bytes = new byte[gray ? plane : 4 * plane];
        var p = image.Pixels;
        if (gray)
            for (int i = 0; i < plane; i++) bytes[i] = ToByte(p[i]);
        else
            for (int i = 0; i < plane; i++)
            {
                bytes[4 * i] = ToByte(p[2 * plane + i]);   // R from the third (BGR) plane
                bytes[4 * i + 1] = ToByte(p[plane + i]);
                bytes[4 * i + 2] = ToByte(p[i]);
                bytes[4 * i + 3] = 255;
            }
        var info = new SKImageInfo(image.Width, image.Height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var data = bitmap.Encode(encoded, encoded == SKEncodedImageFormat.Jpeg ? jpegQuality : 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Channels}-channel {image.Width}x{image.Height} image as {format}.");
        return data.ToArray();
    }

    /// <summary>True when the encoded image stores one gray channel; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an image SkiaSharp can read.</exception>
    public static bool IsGray(byte[] encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new InvalidDataException($"Image {name} is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP, ICO) or its header is corrupt.");
        return codec.Info.ColorType == SKColorType.Gray8;
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);
}
