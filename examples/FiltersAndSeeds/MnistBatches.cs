using Backprop;
using Backprop.Data;

namespace FiltersAndSeeds;

/// <summary>
/// MNIST images scaled as Caffe's LeNet scales them (× 1/256), served in file order and cycling, as Caffe's
/// data layer serves them. Both seeds see the same batches in the same order: only the initial weights differ.
/// </summary>
public sealed class MnistBatches
{
    private readonly float[] pixels;
    private readonly int[] labels;
    private const int Pixels = 28 * 28;

    /// <param name="images">MNIST as <see cref="Mnist.Load"/> returns it.</param>
    /// <param name="count">How many images to keep from the start of the file (0: all).</param>
    public MnistBatches(LabeledImages images, int count = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        Count = count <= 0 ? images.Count : Math.Min(count, images.Count);
        pixels = new float[Count * Pixels];
        var raw = images.Images.AsSpan()[..pixels.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = raw[i] * 0.00390625f;
        labels = new int[Count];
        for (int i = 0; i < Count; i++) labels[i] = images.Labels[i];
    }

    public int Count { get; }

    /// <summary>The <paramref name="index"/>-th batch of <paramref name="size"/> images (N, 1, 28, 28), wrapping around the end.</summary>
    public (Tensor Images, int[] Labels) Batch(int index, int size)
    {
        var x = new float[size * Pixels];
        var y = new int[size];
        for (int i = 0; i < size; i++)
        {
            int n = (int)(((long)index * size + i) % Count);
            pixels.AsSpan(n * Pixels, Pixels).CopyTo(x.AsSpan(i * Pixels));
            y[i] = labels[n];
        }
        return (Tensor.FromArray(x, size, 1, 28, 28), y);
    }
}
