using System.Runtime.InteropServices;
using SkiaSharp;

namespace Backprop.Vision;

/// <summary>
/// Reads PNG, JPEG (and the other formats SkiaSharp decodes: BMP, GIF, WebP, ICO) into an <see cref="Image"/>
/// as Caffe reads them through OpenCV's <c>imread</c>: 8-bit values 0..255, colour as 3 channels in BGR order,
/// alpha dropped (not blended), no colour-profile conversion. <see cref="ChannelOrder.Rgb"/> gives the planes in
/// the order Keras and PyTorch use instead.
/// </summary>
public static class ImageFile
{
    /// <summary>
    /// 2^25 = 33,554,432 pixels (8192x4096; a 33-megapixel photo), which decodes in at most 512 MiB. Lower than PIL's
    /// <c>Image.MAX_IMAGE_PIXELS</c> (89,478,485, which lets a 250 KB PNG of 8000x8000 take 1.5 GB): a CNN's inputs
    /// are far smaller, and ordinary camera photos still load.
    /// </summary>
    public const long DefaultMaxPixels = 1L << 25;

    private static long maxPixels = DefaultMaxPixels;

    /// <summary>
    /// The largest image decoded, in pixels (default <see cref="DefaultMaxPixels"/>): a file whose header
    /// claims more is refused with an <see cref="InvalidDataException"/> before anything is allocated for it, as a
    /// guard against decompression bombs (a 250 KB PNG can declare 8000x8000 pixels; decoding takes 16 bytes a pixel).
    /// Raise it, for the whole process, to read trusted larger images; at most <see cref="Array.MaxLength"/> / 4.
    /// </summary>
    public static long MaxPixels
    {
        get => Volatile.Read(ref maxPixels);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Array.MaxLength / 4);   // the RGBA buffer is one array
            Volatile.Write(ref maxPixels, value);
        }
    }

    /// <summary>
    /// Decodes the image at <paramref name="path"/>. With <paramref name="color"/>, 3 channels B, G, R (or R, G, B
    /// with <paramref name="order"/> <see cref="ChannelOrder.Rgb"/>); without, 1 channel of luma computed as OpenCV's
    /// <c>cvtColor(RGB2GRAY)</c> does: round(0.299 R + 0.587 G + 0.114 B) in its 14-bit fixed point, so a gray pixel
    /// keeps its value exactly.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is empty, unreadable, corrupt, truncated, not an image, or larger than <see cref="MaxPixels"/>.</exception>
    public static Image Load(string path, bool color = true, ChannelOrder order = ChannelOrder.Bgr)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file {path} does not exist.", path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Image file {path} cannot be read: {e.Message}", e);
        }
        if (bytes.Length == 0) throw new InvalidDataException($"Image file {path} is empty.");
        return Decode(bytes, path, color, order);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> names it in errors.</summary>
    public static Image Decode(byte[] encoded, string name, bool color = true, ChannelOrder order = ChannelOrder.Bgr)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null) throw new InvalidDataException($"Image file {name} is not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF, WebP, ICO) or its header is corrupt.");
        ImageSizeGuard.Check(codec, encoded, name);   // before the pixels are allocated
        int w = codec.Info.Width, h = codec.Info.Height;

        // Unpremultiplied RGBA with no colour space: raw 8-bit values, as OpenCV gives them.
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[checked(w * h * 4)];
        SKCodecResult result;
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try { result = codec.GetPixels(info, handle.AddrOfPinnedObject()); }
        finally { handle.Free(); }
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"Image file {name} ({codec.EncodedFormat}, {w}x{h}) could not be decoded: {Describe(result)}.");

        int plane = w * h;
        if (color)
        {
            if (!Enum.IsDefined(order)) throw new ArgumentOutOfRangeException(nameof(order), order, "The channel order must be Bgr or Rgb.");
            // RGBA byte k of a pixel goes to plane first/second/third: B, G, R for Caffe, R, G, B for Keras.
            int first = order == ChannelOrder.Bgr ? 2 : 0, third = 2 - first;
            var planes = new float[3 * plane];
            for (int i = 0; i < plane; i++)
            {
                planes[i] = rgba[4 * i + first];
                planes[plane + i] = rgba[4 * i + 1];
                planes[2 * plane + i] = rgba[4 * i + third];
            }
            return new Image(3, h, w, planes);
        }
        var gray = new float[plane];
        for (int i = 0; i < plane; i++) gray[i] = Luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]);
        return new Image(1, h, w, gray);
    }

    /// <summary>OpenCV's RGB-to-gray for 8-bit images: (4899 R + 9617 G + 1868 B + 2^13) >> 14, i.e. 0.299 R + 0.587 G + 0.114 B rounded.</summary>
    public static int Luma(int r, int g, int b) => (r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14;

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "the data is truncated or corrupt",
        SKCodecResult.InvalidInput => "the data is corrupt",
        SKCodecResult.Unimplemented => "this variant of the format is not supported",
        _ => result.ToString(),
    };
}
