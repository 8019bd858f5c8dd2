namespace Backprop.Vision;

/// <summary>
/// An image as a network sees it: <see cref="Channels"/> planes of <see cref="Height"/> × <see cref="Width"/>
/// float pixels in CHW order (channel, then row, then column). Decoded images hold 0..255 with colour
/// channels in BGR order, as Caffe (through OpenCV) stores them, unless decoded with <see cref="ChannelOrder.Rgb"/>.
/// </summary>
public sealed class Image
{
    /// <summary>An image over <paramref name="pixels"/> (CHW, not copied).</summary>
    public Image(int channels, int height, int width, float[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)channels * height * width != pixels.Length)
            throw new ArgumentException($"{pixels.Length} pixel values cannot fill a {channels}x{height}x{width} image ({(long)channels * height * width} values).", nameof(pixels));
        Channels = channels;
        Height = height;
        Width = width;
        Pixels = pixels;
    }

    /// <summary>A black image.</summary>
    public Image(int channels, int height, int width) : this(channels, height, width, new float[checked(channels * height * width)]) { }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>The pixel values, CHW: the value at (c, y, x) is at <c>(c * Height + y) * Width + x</c>.</summary>
    public float[] Pixels { get; }

    public float this[int channel, int y, int x]
    {
        get => Pixels[(channel * Height + y) * Width + x];
        set => Pixels[(channel * Height + y) * Width + x] = value;
    }

    /// <summary>A tensor of shape (C, H, W) holding a copy of the pixels.</summary>
    public Tensor ToTensor() => Tensor.FromArray(Pixels, Channels, Height, Width);

    public override string ToString() => $"Image({Channels}x{Height}x{Width})";
}
