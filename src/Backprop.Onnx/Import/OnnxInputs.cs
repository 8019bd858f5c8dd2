using System.Collections;

namespace Backprop.Onnx.Import;

/// <summary>Runs one imported node whose output is an integer tensor (a shape, indices): the shape arithmetic PyTorch writes.</summary>
internal delegate OnnxTensorData OnnxIntegerKernel(OnnxInputs inputs);

/// <summary>
/// A node's inputs at run time, in node order: float tensors by index (null where omitted or integer), and the integer
/// tensors (shapes, indices) that the graph computes or holds as constants, by <see cref="Integers"/>.
/// </summary>
internal sealed class OnnxInputs(Tensor?[] tensors, OnnxTensorData?[] integers) : IEnumerable<Tensor?>
{
    /// <summary>The number of inputs the node lists.</summary>
    public int Length => tensors.Length;

    /// <summary>Float input <paramref name="i"/>; null when omitted or integer.</summary>
    public Tensor? this[int i] => tensors[i];

    /// <summary>Integer input <paramref name="i"/>; null when omitted or float.</summary>
    public OnnxTensorData? Integers(int i) => i < integers.Length ? integers[i] : null;

    /// <summary>Integer input <paramref name="i"/>'s values, or an error naming <paramref name="what"/> when the node was given none.</summary>
    public long[] Longs(int i, string what) =>
        Integers(i)?.Longs ?? throw new ArgumentException($"its {what} (input {i}) is not an integer tensor computed before it.");

    /// <summary>The shape of input <paramref name="i"/>, float or integer.</summary>
    public int[] Dims(int i) => tensors[i]?.Shape.ToArray() ?? integers[i]?.Dims ?? throw new ArgumentException($"input {i} is missing.");

    public IEnumerator<Tensor?> GetEnumerator() => ((IEnumerable<Tensor?>)tensors).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
