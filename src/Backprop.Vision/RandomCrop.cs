namespace Backprop.Vision;

/// <summary>
/// Cuts a <see cref="Height"/> × <see cref="Width"/> window at a random place out of each image (Keras's
/// <c>RandomCrop</c> in training). The top row is drawn uniformly from 0..H − height, then the left column from
/// 0..W − width; output pixel (y, x) is input pixel (top + y, left + x). An image smaller than the window is an error.
/// </summary>
public sealed class RandomCrop : IImageTransform
{
    public RandomCrop(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }

    public (int Height, int Width) OutputSize(int height, int width)
    {
        if (height < Height || width < Width)
            throw new ArgumentException($"A {Height}x{Width} random crop does not fit in a {height}x{width} image.");
        return (Height, Width);
    }

    public Image Apply(Image image, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(generator);
        OutputSize(image.Height, image.Width);
        int top = generator.NextInt(image.Height - Height + 1);
        int left = generator.NextInt(image.Width - Width + 1);
        return Crop(image, top, left, Height, Width);
    }

    /// <summary>The <paramref name="height"/> × <paramref name="width"/> window of <paramref name="image"/> whose top-left pixel is (<paramref name="top"/>, <paramref name="left"/>).</summary>
    public static Image Crop(Image image, int top, int left, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > image.Height || left + width > image.Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"The {height}x{width} window at ({top}, {left}) is not inside the {image.Height}x{image.Width} image.");
        var result = new Image(image.Channels, height, width);
        for (int ch = 0; ch < image.Channels; ch++)
            for (int y = 0; y < height; y++)
                image.Pixels.AsSpan((ch * image.Height + top + y) * image.Width + left, width)
                    .CopyTo(result.Pixels.AsSpan((ch * height + y) * width, width));
        return result;
    }

    public override string ToString() => $"RandomCrop({Height}, {Width})";
}
