using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Tests.Vision;

/// <summary>Image files built byte by byte, with whatever size their headers claim.</summary>
internal static class HostileImages
{
    /// <summary>A 24-bit uncompressed BMP (BITMAPINFOHEADER) declaring <paramref name="width"/> x <paramref name="height"/>, followed by <paramref name="pixelData"/> as given.</summary>
    public static byte[] Bmp24(int width, int height, byte[] pixelData)
    {
        var bytes = new byte[54 + pixelData.Length];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(2), (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(10), 54);      // pixel data offset
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(14), 40);      // BITMAPINFOHEADER
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);   // positive: bottom-up rows
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(26), 1);       // planes
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(28), 24);      // bits per pixel
        // compression 0 (BI_RGB), image size 0 (allowed for BI_RGB), resolutions and palette counts 0
        pixelData.CopyTo(bytes, 54);
        return bytes;
    }

    /// <summary>A gray 8-bit PNG declaring <paramref name="width"/> x <paramref name="height"/> whose IDAT holds only <paramref name="rows"/> rows of zeros.</summary>
    public static byte[] PngGray(int width, int height, int rows)
    {
        var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (gray), compression, filter, interlace 0
        Chunk(output, "IHDR", ihdr);
        var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.Fastest, leaveOpen: true)) z.Write(new byte[(long)rows * (width + 1)]);
        Chunk(output, "IDAT", zlib.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        output.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
