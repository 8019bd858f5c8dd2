namespace Backprop.Onnx;

/// <summary>
/// One dimension of a graph input or output declared with
/// <see cref="OnnxGraphBuilder.AddInput(string, Proto.TensorProto.Types.DataType, IReadOnlyList{OnnxDimension})"/>: a fixed
/// size, or a symbolic name (<c>"height"</c>) that the runtime fills in from the data. Converts from an int and a string.
/// </summary>
public readonly record struct OnnxDimension
{
    private OnnxDimension(long size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size (meaningless when <see cref="Symbol"/> is set).</summary>
    public long Size { get; }

    /// <summary>The symbolic name of a dynamic dimension, or null for a fixed one.</summary>
    public string? Symbol { get; }

    /// <summary>A fixed dimension of <paramref name="size"/> (≥ 0).</summary>
    public static OnnxDimension Fixed(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return new(size, null);
    }

    /// <summary>A dynamic dimension called <paramref name="symbol"/>; dimensions with the same name have the same size.</summary>
    public static OnnxDimension Dynamic(string symbol)
    {
        ArgumentException.ThrowIfNullOrEmpty(symbol);
        return new(0, symbol);
    }

    public static implicit operator OnnxDimension(int size) => Fixed(size);

    public static implicit operator OnnxDimension(string symbol) => Dynamic(symbol);

    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
