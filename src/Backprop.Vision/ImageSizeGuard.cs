using System.Buffers.Binary;
using SkiaSharp;

namespace Backprop.Vision;

/// <summary>
/// Checks an image's declared size before anything is allocated for its pixels: the pixel count against
/// <see cref="ImageFile.MaxPixels"/> (a decompression-bomb guard, as PIL's <c>Image.MAX_IMAGE_PIXELS</c>), and for
/// an uncompressed BMP the rows the header declares against the bytes the file really holds.
/// </summary>
internal static class ImageSizeGuard
{
    public static void Check(SKCodec codec, byte[] encoded, string name)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0) throw new InvalidDataException($"Image file {name} has an empty size {w}x{h}.");
        long pixels = (long)w * h;
        long limit = ImageFile.MaxPixels;
        if (pixels > limit)
            throw new InvalidDataException(
                $"Image file {name} is {w}x{h} = {pixels} pixels, more than the limit of {limit} (ImageFile.MaxPixels, a guard against " +
                $"decompression bombs; decoding it would take up to {pixels * 16 / (1 << 20)} MiB). If the file is trusted, raise Backprop.Vision.ImageFile.MaxPixels.");
        if (codec.EncodedFormat == SKEncodedImageFormat.Bmp) CheckBmpLength(encoded, w, h, name);
    }

    /// <summary>
    /// An uncompressed BMP stores every row, padded to 4 bytes, after the pixel-data offset: a header claiming more
    /// rows than the file holds is refused here (the decoder would allocate the whole image, then find it truncated).
    /// RLE, JPEG and PNG payloads are left to the pixel limit.
    /// </summary>
    private static void CheckBmpLength(byte[] bmp, int w, int h, string name)
    {
        // BITMAPFILEHEADER (14 bytes: "BM", size, reserved, pixel offset at 10), then the DIB header, whose size comes first.
        if (bmp.Length < 18 || bmp[0] != 'B' || bmp[1] != 'M') return;   // not the file form SkiaSharp's BMP decoder took; leave it to the decoder
        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(10));
        uint dibSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(14));
        int bitCount;
        uint compression = 0;
        if (dibSize == 12)   // OS/2 BITMAPCOREHEADER: never compressed
        {
            if (bmp.Length < 26) return;
            bitCount = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(24));
        }
        else
        {
            if (dibSize < 20 || bmp.Length < 34) return;
            bitCount = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(28));
            compression = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(30));
            // 0 = BI_RGB; 3 and 6 = (ALPHA)BITFIELDS in Windows headers, but Huffman/RLE24 in OS/2 2.x ones (16 or 64 bytes).
            bool windows = dibSize is not (16 or 64);
            if (!(compression == 0 || (windows && compression is 3 or 6))) return;
        }
        if (bitCount is not (1 or 2 or 4 or 8 or 16 or 24 or 32)) return;
        long rowBytes = ((long)bitCount * w + 31) / 32 * 4;
        long needed = rowBytes * h;
        long start = pixelOffset >= 14 + dibSize && pixelOffset <= bmp.Length ? pixelOffset : 14 + dibSize;
        long held = Math.Max(0, bmp.Length - start);
        if (needed > held)
            throw new InvalidDataException(
                $"Image file {name} is an uncompressed BMP that declares {w}x{h} pixels of {bitCount} bits ({needed} bytes of rows) but holds only {held} bytes of pixel data (the file is truncated or its header is corrupt).");
    }
}
