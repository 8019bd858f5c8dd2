using Backprop.Caffe.Proto;
using Backprop.IO;
using Google.Protobuf;

namespace Backprop.Caffe;

/// <summary>Conversions between tensors and Caffe's BlobProto (shape, or the legacy num/channels/height/width).</summary>
public static class BlobProtos
{
    public static BlobProto From(Tensor tensor)
    {
        var blob = new BlobProto { Shape = Layers.BlobShapes.To(tensor.Shape) };
        blob.Data.Add(tensor.ToArray());
        return blob;
    }

    /// <summary>A blob's values checked against the expected shape; float or double data.</summary>
    public static float[] Values(BlobProto blob, Shape expected, string where)
    {
        Shape? shape;
        try
        {
            shape = blob.Shape is not null ? Layers.BlobShapes.From(blob.Shape, where)
                : blob.HasNum || blob.HasChannels || blob.HasHeight || blob.HasWidth ? new Shape(blob.Num, blob.Channels, blob.Height, blob.Width) : null;
        }
        catch (ArgumentException e)   // a negative dimension, or more elements than an array holds
        {
            string dims = blob.Shape is not null ? string.Join(" x ", blob.Shape.Dim) : $"{blob.Num} x {blob.Channels} x {blob.Height} x {blob.Width}";
            throw new CaffeNetException($"{where} has shape {dims}, which no tensor can have ({e.Message}); the net expects {expected}.", e);
        }
        // Only values already parsed from the file are copied, and only when they are exactly as many as the net's blob holds.
        int count = blob.Data.Count > 0 ? blob.Data.Count : blob.DoubleData.Count;
        bool fits = shape is null ? count == expected.Length
            : shape == expected || (shape.Length == expected.Length && blob.Shape is null);   // legacy 4-D blobs of 2-D weights
        if (!fits || count != expected.Length)
            throw new CaffeNetException($"{where} has shape {shape?.ToString() ?? "(none)"} with {count} values, but the net expects {expected}.");
        return blob.Data.Count > 0 ? [.. blob.Data] : blob.DoubleData.Select(d => (float)d).ToArray();
    }

    /// <summary>Largest .binaryproto read; larger ones are refused before allocating.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Reads a BlobProto written as a binary protobuf (Caffe's <c>.binaryproto</c>, e.g. a mean image).</summary>
    /// <param name="what">What the file should be, for messages ("mean_file").</param>
    /// <exception cref="CaffeNetException">The file is missing, too large, or not a binary BlobProto; the message names the file.</exception>
    public static BlobProto ReadFile(string path, string what = "blob (.binaryproto)")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new CaffeNetException($"{path}: no such file (expected a {what}).");
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new CaffeNetException($"{path}: {length} bytes is larger than the {MaxFileBytes}-byte limit for a {what}.");
        try
        {
            using var stream = File.OpenRead(path);
            return BlobProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CaffeNetException($"{path}: not a valid binary {what} (a BlobProto): {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="blob"/> as a binary protobuf, through a temporary file renamed into place.</summary>
    public static void WriteFile(string path, BlobProto blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        AtomicFile.Write(path, blob.WriteTo);
    }
}
