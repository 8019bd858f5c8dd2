using Backprop.Caffe.Proto;
using Backprop.Vision;
using Google.Protobuf;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Datum records that hold an encoded image (PNG, JPEG...: <c>encoded: true</c>, written by convert_imageset --encoded)
/// decoded to raw ones, as Caffe's DecodeDatumNative: channels, height, width and the (C, H, W) bytes in B, G, R order.
/// </summary>
public static class EncodedDatums
{
    /// <summary>
    /// <paramref name="datum"/> itself when it is raw, else its image decoded: with its own channel count (gray stays one
    /// channel, as OpenCV's IMREAD_ANYCOLOR), or forced to 3 (<paramref name="color"/> true) or 1 (false).
    /// </summary>
    /// <param name="name">The record, for messages.</param>
    /// <exception cref="InvalidDataException">The bytes are not an image that can be decoded.</exception>
    public static Datum Decode(Datum datum, string name, bool? color = null)
    {
        ArgumentNullException.ThrowIfNull(datum);
        if (!datum.Encoded) return datum;
        byte[] bytes = datum.Data.ToByteArray();
        if (bytes.Length == 0) throw new InvalidDataException($"{name} is marked encoded but holds no image bytes.");
        bool asColor = color ?? !ImageEncoding.IsGray(bytes, name);
        var image = ImageFile.Decode(bytes, name, asColor);
        var pixels = new byte[image.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)image.Pixels[i];   // decoded values are whole bytes
        return new Datum
        {
            Channels = image.Channels,
            Height = image.Height,
            Width = image.Width,
            Data = ByteString.CopyFrom(pixels),
            Label = datum.Label,
        };
    }
}
