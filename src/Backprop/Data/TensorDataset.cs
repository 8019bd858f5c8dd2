namespace Backprop.Data;

/// <summary>
/// An in-memory dataset: samples stored one after another in a float array, each of
/// <see cref="IDataset.SampleShape"/>, with an integer label each. The arrays are shared, not copied.
/// </summary>
public sealed class TensorDataset : IDataset
{
    private readonly float[] data;
    private readonly int offset;
    private readonly int[] labels;

    /// <param name="data">The samples, row-major, <c>labels.Length * sampleShape.Length</c> values.</param>
    /// <param name="sampleShape">The shape of one sample, e.g. (1, 28, 28).</param>
    /// <param name="labels">One label per sample.</param>
    public TensorDataset(float[] data, Shape sampleShape, int[] labels) : this(data, 0, sampleShape, labels) { }

    private TensorDataset(float[] data, int offset, Shape sampleShape, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentNullException.ThrowIfNull(labels);
        if (sampleShape.Length == 0)
            throw new ArgumentException($"The sample shape {sampleShape} has no elements.", nameof(sampleShape));
        long needed = (long)labels.Length * sampleShape.Length;
        if (data.Length - offset != needed)
            throw new ArgumentException($"{labels.Length} samples of shape {sampleShape} need {needed} values, but there are {data.Length - offset}.", nameof(data));
        this.data = data;
        this.offset = offset;
        SampleShape = sampleShape;
        this.labels = labels;
    }

    /// <summary>A dataset over a tensor whose first axis indexes samples (shares the tensor's storage).</summary>
    public static TensorDataset FromTensor(Tensor samples, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(labels);
        if (samples.Rank < 1 || samples.Shape[0] != labels.Length)
            throw new ArgumentException($"The samples of shape {samples.Shape} do not match {labels.Length} labels: the first axis must index the samples.");
        var dims = samples.Shape.ToArray();
        if (!samples.IsLent && samples.Offset + samples.Length == samples.Storage.Length)   // memory a pool lends is copied
            return new TensorDataset(samples.Storage, samples.Offset, new Shape(dims[1..]), labels);
        return new TensorDataset(samples.ToArray(), new Shape(dims[1..]), labels);
    }

    public int Count => labels.Length;

    public Shape SampleShape { get; }

    /// <summary>The labels (not a copy).</summary>
    public IReadOnlyList<int> Labels => labels;

    /// <summary>The values of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index)
    {
        if ((uint)index >= (uint)labels.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {labels.Length} samples.");
        return data.AsSpan(offset + index * SampleShape.Length, SampleShape.Length);
    }

    public int CopySample(int index, Span<float> destination)
    {
        Sample(index).CopyTo(destination);
        return labels[index];
    }
}
