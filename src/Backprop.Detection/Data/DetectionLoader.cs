using System.Collections;
using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>
/// Batches of a <see cref="VocDataset"/> for training or testing. Each enumeration is one epoch: the images in a
/// seeded random order (or in dataset order without <c>shuffle</c>), each mirrored left to right with probability
/// 0.5 when <c>flip</c> is set, collated by <see cref="DetectionBatch.Collate"/>; the last batch may be smaller.
/// The generator carries on from epoch to epoch, so every epoch differs and a seed repeats a whole run. Draws per
/// epoch: one permutation (when shuffling), then one number per image (when flipping), whatever the outcome.
/// <para>
/// Decoded images are kept in memory as bytes after their first load (3·H·W bytes each, a quarter of the floats),
/// so later epochs read no files: meant for small sets such as <see cref="SyntheticShapes"/>. Targets of unflipped
/// samples are shared between epochs: treat them as read-only. Not thread-safe.
/// </para>
/// </summary>
public sealed class DetectionLoader : IEnumerable<DetectionBatch>
{
    private readonly VocDataset dataset;
    private readonly Generator generator;
    private readonly CachedImage?[] cache;

    /// <param name="imageSize">Images (and boxes) are scaled so their longer side has this many pixels; 0 leaves them as they are.</param>
    public DetectionLoader(VocDataset dataset, int batchSize, bool shuffle, bool flip, ulong seed, int imageSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageSize);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        this.dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Flip = flip;
        generator = new Generator(seed);
        cache = new CachedImage?[dataset.Count];
        ImageSize = imageSize;
    }

    /// <summary>The longer side images are scaled to (0: not scaled).</summary>
    public int ImageSize { get; }

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool Flip { get; }

    /// <summary>Batches per epoch: ⌈Count / BatchSize⌉.</summary>
    public int BatchesPerEpoch => (dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Image <paramref name="index"/> of the dataset as loaded and scaled (from the cache after the first time), not flipped.</summary>
    public DetectionSample Sample(int index)
    {
        var cached = cache[index];
        if (cached is null)
        {
            var sample = DetectionResize.ToImageSize(dataset.Load(index), ImageSize);
            cache[index] = cached = new CachedImage(sample.Image.Channels, sample.Image.Height, sample.Image.Width,
                Array.ConvertAll(sample.Image.Pixels, v => (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f)), sample.Target, sample.Id);
        }
        // Always from the bytes, so the first epoch sees the same values as later ones (a scaled image is not k / 255).
        var pixels = new float[cached.Bytes.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = cached.Bytes[i] / 255f;   // the same division as VocDataset.Load
        return new DetectionSample(new Image(cached.Channels, cached.Height, cached.Width, pixels), cached.Target, cached.Id);
    }

    public IEnumerator<DetectionBatch> GetEnumerator()
    {
        int n = dataset.Count;
        int[] order = Shuffle ? generator.Permutation(n) : Enumerable.Range(0, n).ToArray();
        bool[] mirrored = new bool[n];
        if (Flip)
            for (int i = 0; i < n; i++) mirrored[i] = generator.NextDouble() < 0.5;
        for (int start = 0; start < n; start += BatchSize)
        {
            var samples = new List<DetectionSample>(BatchSize);
            for (int i = start; i < Math.Min(n, start + BatchSize); i++)
            {
                var sample = Sample(order[i]);
                samples.Add(mirrored[i] ? DetectionFlip.Horizontal(sample) : sample);
            }
            yield return DetectionBatch.Collate(samples);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"DetectionLoader({dataset.Count} images, batch={BatchSize}{(Shuffle ? ", shuffle" : "")}{(Flip ? ", flip" : "")})";

    /// <summary>A decoded image as 8-bit values (the dataset's floats are exactly k / 255) and its ground truth.</summary>
    private sealed record CachedImage(int Channels, int Height, int Width, byte[] Bytes, DetectionTarget Target, string Id);
}
