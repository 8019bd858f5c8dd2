using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// A mean image, as transform_param's <c>mean_file</c> names it: a BlobProto of shape (1, C, H, W) (the legacy num,
/// channels, height, width fields, or a shape of 4 or 3 dimensions) holding one mean per pixel, as Caffe's
/// compute_image_mean writes it.
/// </summary>
public sealed record MeanImage(int Channels, int Height, int Width, float[] Values)
{
    /// <summary>Reads and checks a mean file.</summary>
    /// <exception cref="CaffeNetException">The file is missing, malformed, not one image's shape, or its values do not fill
    /// that shape; the message names the file.</exception>
    public static MeanImage Load(string path)
    {
        var blob = BlobProtos.ReadFile(path, "mean file (.binaryproto)");
        long[] dims = blob.Shape is { } shape ? [.. shape.Dim]
            : blob.HasNum || blob.HasChannels || blob.HasHeight || blob.HasWidth ? [blob.Num, blob.Channels, blob.Height, blob.Width] : [];
        string text = string.Join(" x ", dims);
        if (dims.Length == 4 && dims[0] == 1) dims = dims[1..];
        if (dims.Length != 3 || dims.Any(d => d < 1 || d > int.MaxValue))
            throw new CaffeNetException($"{path}: the mean file's blob has shape {(text.Length > 0 ? text : "(none)")}; a mean image has shape 1 x C x H x W.");
        long count = blob.Data.Count > 0 ? blob.Data.Count : blob.DoubleData.Count;
        // Compared with the values already parsed, so a shape that claims more than the file holds allocates nothing.
        if ((Int128)dims[0] * dims[1] * dims[2] != count)
            throw new CaffeNetException($"{path}: the mean file's blob has shape {text} but holds {count} values.");
        float[] values = blob.Data.Count > 0 ? [.. blob.Data] : blob.DoubleData.Select(d => (float)d).ToArray();
        return new MeanImage((int)dims[0], (int)dims[1], (int)dims[2], values);
    }

    /// <summary>The image as the BlobProto Caffe's compute_image_mean writes: num 1, channels, height, width, the values.</summary>
    public BlobProto ToBlobProto()
    {
        var blob = new BlobProto { Num = 1, Channels = Channels, Height = Height, Width = Width };
        blob.Data.Add(Values);
        return blob;
    }
}
