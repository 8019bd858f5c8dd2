namespace Backprop.Data;

/// <summary>
/// Labeled samples of one shape, read by index; what a <see cref="DataLoader"/> draws batches from.
/// <see cref="CopySample"/> may be called from the loader's background thread, so it must not depend on the
/// calling thread (a read-only in-memory dataset such as <see cref="TensorDataset"/> qualifies).
/// </summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>The shape of one sample, e.g. (1, 28, 28).</summary>
    Shape SampleShape { get; }

    /// <summary>Writes sample <paramref name="index"/> (row-major, <c>SampleShape.Length</c> values) to <paramref name="destination"/> and returns its label.</summary>
    int CopySample(int index, Span<float> destination);
}
