namespace Backprop.Detection;

/// <summary>
/// Images of different sizes batched for a detector: <see cref="Images"/> (N, C, Hmax, Wmax) with each image in the
/// top-left corner and zeros to the right and below (so box coordinates need no shift), the true size of each image
/// in <see cref="ImageSizes"/>, and the ground truth and ids in batch order.
/// </summary>
public sealed record DetectionBatch(Tensor Images, (int Height, int Width)[] ImageSizes, IReadOnlyList<DetectionTarget> Targets, IReadOnlyList<string> Ids)
{
    /// <summary>Number of images N.</summary>
    public int Count => Ids.Count;

    /// <summary>Pads and stacks <paramref name="samples"/> (all with the same channel count) into one batch.</summary>
    public static DetectionBatch Collate(IReadOnlyList<DetectionSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("DetectionBatch.Collate needs at least one sample.", nameof(samples));
        int n = samples.Count, channels = samples[0].Image.Channels, height = 0, width = 0;
        for (int i = 0; i < n; i++)
        {
            var image = samples[i].Image;
            if (image.Channels != channels)
                throw new ArgumentException($"DetectionBatch.Collate: sample {i} ('{samples[i].Id}') has {image.Channels} channels, sample 0 ('{samples[0].Id}') has {channels}.", nameof(samples));
            height = Math.Max(height, image.Height);
            width = Math.Max(width, image.Width);
        }
        var images = Tensor.Zeros(n, channels, height, width);   // images: (N, C, Hmax, Wmax)
        var values = images.AsSpan();
        var sizes = new (int Height, int Width)[n];
        for (int i = 0; i < n; i++)
        {
            var image = samples[i].Image;
            sizes[i] = (image.Height, image.Width);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < image.Height; y++)
                    image.Pixels.AsSpan((c * image.Height + y) * image.Width, image.Width)
                        .CopyTo(values.Slice(((i * channels + c) * height + y) * width, image.Width));
        }
        return new DetectionBatch(images, sizes, samples.Select(s => s.Target).ToArray(), samples.Select(s => s.Id).ToArray());
    }
}
