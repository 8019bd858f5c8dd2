namespace Backprop.Vision;

/// <summary>
/// Mirrors an image left to right with probability <see cref="Probability"/> (Keras's <c>RandomFlip("horizontal")</c>),
/// and, when <see cref="Vertical"/> is set, top to bottom with the same probability, drawn separately.
/// Output pixel (y, x) of a horizontal flip is input pixel (y, W − 1 − x).
/// </summary>
public sealed class RandomFlip : IImageTransform
{
    /// <param name="horizontal">Flip left to right.</param>
    /// <param name="vertical">Flip top to bottom.</param>
    /// <param name="probability">Chance of each flip, 0..1.</param>
    public RandomFlip(bool horizontal = true, bool vertical = false, double probability = 0.5)
    {
        if (!horizontal && !vertical) throw new ArgumentException("A RandomFlip must flip horizontally, vertically or both.");
        if (!(probability >= 0 && probability <= 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The flip probability must be between 0 and 1.");
        Horizontal = horizontal;
        Vertical = vertical;
        Probability = probability;
    }

    public bool Horizontal { get; }
    public bool Vertical { get; }
    public double Probability { get; }

    public (int Height, int Width) OutputSize(int height, int width) => (height, width);

    /// <summary>One draw per direction (horizontal first), made whatever the outcome, so the draws per image are fixed.</summary>
    public Image Apply(Image image, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(generator);
        bool flipX = Horizontal && generator.NextDouble() < Probability;
        bool flipY = Vertical && generator.NextDouble() < Probability;
        return flipX || flipY ? Flip(image, flipX, flipY) : image;
    }

    /// <summary>The image mirrored left to right (<paramref name="horizontal"/>) and/or top to bottom (<paramref name="vertical"/>).</summary>
    public static Image Flip(Image image, bool horizontal, bool vertical)
    {
        ArgumentNullException.ThrowIfNull(image);
        int c = image.Channels, h = image.Height, w = image.Width;
        var result = new Image(c, h, w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
            {
                int sy = vertical ? h - 1 - y : y;
                for (int x = 0; x < w; x++)
                    result[ch, y, x] = image[ch, sy, horizontal ? w - 1 - x : x];
            }
        return result;
    }

    public override string ToString() =>
        $"RandomFlip({(Horizontal && Vertical ? "horizontal_and_vertical" : Horizontal ? "horizontal" : "vertical")}{(Probability != 0.5 ? $", p={Probability}" : "")})";
}
