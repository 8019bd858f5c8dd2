namespace Backprop.Data;

/// <summary>A batch from a <see cref="DataLoader"/>: samples stacked on a new first axis, and their labels.</summary>
/// <param name="Images">(B, ...sample shape), a fresh tensor per batch.</param>
/// <param name="Labels">The B labels, in the order of the samples.</param>
public readonly record struct Batch(Tensor Images, int[] Labels)
{
    /// <summary>Number of samples in the batch (the last one may be smaller unless dropLast is set).</summary>
    public int Count => Labels.Length;
}
