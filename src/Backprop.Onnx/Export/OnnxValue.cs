namespace Backprop.Onnx;

/// <summary>
/// A tensor in an ONNX graph being built: its value name and its shape after the batch dimension (the batch is the
/// dynamic dimension <see cref="OnnxGraphBuilder.BatchDimension"/>). A (N, 20, 12, 12) value has SampleShape [20, 12, 12].
/// </summary>
public readonly record struct OnnxValue(string Name, int[] SampleShape)
{
    /// <summary>The rank of the whole tensor, batch included.</summary>
    public int Rank => SampleShape.Length + 1;

    /// <summary>The shape as text, batch first: <c>(N, 20, 12, 12)</c>.</summary>
    public override string ToString() => $"{Name} (N, {string.Join(", ", SampleShape)})";
}
