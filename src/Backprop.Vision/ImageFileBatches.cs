using Backprop.Data;

namespace Backprop.Vision;

/// <summary>
/// Reads image files batch by batch, decoding, resizing, augmenting and scaling them on a background thread a few
/// batches ahead of the consumer, so a training step does not wait for JPEG/PNG decoding. Each batch is a tensor
/// (B, height, width, 3), channels-last RGB as Keras holds images, values 0..255 times <see cref="Scale"/>.
/// </summary>
/// <remarks>
/// The images of a batch are decoded in parallel; image i of an epoch draws its augmentation from a generator seeded
/// by the epoch's seed and i, so a seed repeats the same augmentation whatever the thread timing.
/// </remarks>
public sealed class ImageFileBatches
{
    private readonly string[] files;

    /// <param name="files">The image files.</param>
    /// <param name="size">The size every image is resized to (bilinear, as <see cref="ImageFolder"/>) before the transform.</param>
    /// <param name="transform">Random augmentation per image (e.g. <see cref="RandomFlip"/>, <see cref="RandomAffine"/>), or null.</param>
    /// <param name="scale">Multiplies every value after augmentation (Keras's <c>rescale</c>, e.g. 1/255).</param>
    /// <param name="prefetch">Batches prepared ahead, 1..<see cref="DataLoader.MaxPrefetch"/>.</param>
    public ImageFileBatches(IReadOnlyList<string> files, (int Height, int Width) size, IImageTransform? transform = null, float scale = 1f, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (size.Height <= 0 || size.Width <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "The image size must be positive.");
        if (prefetch < 1 || prefetch > DataLoader.MaxPrefetch)
            throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, $"prefetch must be 1 to {DataLoader.MaxPrefetch}.");
        if (!float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be a finite number.");
        this.files = [.. files];
        Size = size;
        Transform = transform;
        Scale = scale;
        Prefetch = prefetch;
        OutputSize = transform?.OutputSize(size.Height, size.Width) ?? size;
    }

    /// <summary>Number of files.</summary>
    public int Count => files.Length;

    /// <summary>The size images are resized to.</summary>
    public (int Height, int Width) Size { get; }

    /// <summary>The size of the images in a batch (after the transform).</summary>
    public (int Height, int Width) OutputSize { get; }

    /// <summary>The augmentation, or null.</summary>
    public IImageTransform? Transform { get; }

    /// <summary>The factor applied to the values.</summary>
    public float Scale { get; }

    /// <summary>Batches prepared ahead.</summary>
    public int Prefetch { get; }

    /// <summary>Called on the background thread when batch k (from 0) of an enumeration is ready: lets tests see the thread run ahead.</summary>
    internal Action<int>? BatchDecoded { get; set; }

    /// <summary>
    /// One pass over the files in <paramref name="order"/> (indices into the file list), in batches of
    /// <paramref name="batchSize"/> (the last may be smaller), prepared on a background thread. Leaving the loop
    /// early stops the thread. A file that cannot be decoded throws <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public IEnumerable<Tensor> Read(int[] order, int batchSize, ulong augmentationSeed)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        foreach (int i in order)
            if ((uint)i >= (uint)files.Length) throw new ArgumentOutOfRangeException(nameof(order), i, $"The reader has {files.Length} files.");
        return new Enumerable(() => new PrefetchEnumerator<Tensor>(Produce(order, batchSize, augmentationSeed).GetEnumerator(), Prefetch, "image batches"));
    }

    private IEnumerable<Tensor> Produce(int[] order, int batchSize, ulong seed)
    {
        for (int start = 0, k = 0; start < order.Length; start += batchSize, k++)
        {
            int count = Math.Min(batchSize, order.Length - start);
            var batch = DecodeBatch(order, start, count, seed);
            BatchDecoded?.Invoke(k);
            yield return batch;
        }
    }

    private Tensor DecodeBatch(int[] order, int start, int count, ulong seed)
    {
        var (h, w) = OutputSize;
        int perImage = h * w * 3;
        var data = new float[checked(count * perImage)];
        try
        {
            Parallel.For(0, count, i =>
            {
                int position = start + i;
                var image = ImageFile.Load(files[order[position]], color: true, ChannelOrder.Rgb);
                if (image.Height != Size.Height || image.Width != Size.Width)
                    image = ImageResize.Bilinear(image, Size.Height, Size.Width);
                if (Transform is not null)
                    image = Transform.Apply(image, new Generator(seed + (ulong)position * 0x9E3779B97F4A7C15UL));
                if (image.Height != h || image.Width != w || image.Channels != 3)
                    throw new InvalidOperationException($"The transform {Transform} gave a {image.Channels}x{image.Height}x{image.Width} image, not 3x{h}x{w}.");
                int plane = h * w, offset = i * perImage;
                var pixels = image.Pixels;
                for (int ch = 0; ch < 3; ch++)
                    for (int p = 0; p < plane; p++)
                        data[offset + p * 3 + ch] = pixels[ch * plane + p] * Scale;
            });
        }
        catch (AggregateException e)
        {
            // The first file's own error (InvalidDataException naming the file), not the parallel wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return Tensor.FromArray(data, count, h, w, 3);
    }

    private sealed class Enumerable(Func<IEnumerator<Tensor>> start) : IEnumerable<Tensor>
    {
        public IEnumerator<Tensor> GetEnumerator() => start();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
