namespace Backprop.Vision;

/// <summary>Applying an <see cref="IImageTransform"/> to a whole batch.</summary>
public static class ImageTransformExtensions
{
    /// <summary>
    /// Transforms each image of a batch with its own random draws, in batch order, and returns the new batch.
    /// <paramref name="images"/> is (N, H, W, C) when <paramref name="channelsLast"/> (Keras's layout, the default),
    /// else (N, C, H, W); the result has the same layout with the transform's output size.
    /// </summary>
    public static Tensor ApplyToBatch(this IImageTransform transform, Tensor images, Generator generator, bool channelsLast = true)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(generator);
        if (images.Rank != 4)
            throw new ArgumentException($"A batch of images must have rank 4 ({(channelsLast ? "N, H, W, C" : "N, C, H, W")}), got {images.Shape}.", nameof(images));
        int n = images.Shape[0];
        var (c, h, w) = channelsLast ? (images.Shape[3], images.Shape[1], images.Shape[2]) : (images.Shape[1], images.Shape[2], images.Shape[3]);
        var (outH, outW) = transform.OutputSize(h, w);
        var result = channelsLast ? Tensor.Zeros(n, outH, outW, c) : Tensor.Zeros(n, c, outH, outW);
        int inSize = c * h * w, outSize = c * outH * outW;
        var source = images.AsSpan();
        var destination = result.AsSpan();
        for (int i = 0; i < n; i++)
        {
            var image = new Image(c, h, w);
            var sample = source.Slice(i * inSize, inSize);
            if (channelsLast) Transpose(sample, image.Pixels, h * w, c);
            else sample.CopyTo(image.Pixels);
            var output = transform.Apply(image, generator);
            if (output.Channels != c || output.Height != outH || output.Width != outW)
                throw new InvalidOperationException($"{transform} gave a {output} for a {c}x{h}x{w} image, not {c}x{outH}x{outW} as its OutputSize said.");
            var target = destination.Slice(i * outSize, outSize);
            if (channelsLast) Transpose(output.Pixels, target, c, outH * outW);
            else output.Pixels.CopyTo(target);
        }
        return result;
    }

    /// <summary>Writes the (rows, columns) matrix <paramref name="source"/> transposed to <paramref name="destination"/>.</summary>
    private static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < columns; k++)
                destination[k * rows + r] = source[r * columns + k];
    }
}
