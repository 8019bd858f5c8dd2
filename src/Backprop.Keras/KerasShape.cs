namespace Backprop.Keras;

/// <summary>
/// A sample's shape in Keras's order, without the batch dimension: <c>(height, width, channels)</c> for images,
/// <c>(features)</c> for vectors. Converts from an <c>int</c>, a tuple of two or three, or an <c>int[]</c>, so
/// <c>inputShape: (64, 64, 3)</c> and <c>inputShape: 784</c> both read as in Keras.
/// </summary>
public sealed class KerasShape : IEquatable<KerasShape>
{
    private readonly int[] dims;

    public KerasShape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0) throw new ArgumentException("A Keras input shape needs at least one dimension.");
        foreach (int d in dims)
            if (d < 1) throw new ArgumentException($"Input shape {Format(dims)} has a dimension below 1.");
        this.dims = (int[])dims.Clone();
    }

    public static implicit operator KerasShape(int features) => new(features);

    public static implicit operator KerasShape((int, int) shape) => new(shape.Item1, shape.Item2);

    public static implicit operator KerasShape((int Height, int Width, int Channels) shape) => new(shape.Height, shape.Width, shape.Channels);

    public static implicit operator KerasShape(int[] dims) => new(dims);

    public int Rank => dims.Length;

    public int this[int axis] => dims[axis < 0 ? axis + dims.Length : axis];

    public int[] ToArray() => (int[])dims.Clone();

    /// <summary>Number of values in one sample.</summary>
    public int Length => dims.Aggregate(1, (a, b) => a * b);

    /// <summary>The same sample in the core's channels-first order: (h, w, c) becomes (c, h, w).</summary>
    internal int[] ChannelsFirst() => dims.Length == 3 ? [dims[2], dims[0], dims[1]] : ToArray();

    internal static KerasShape FromChannelsFirst(Shape core, int skip = 1)
    {
        var d = core.ToArray()[skip..];
        return d.Length == 3 ? new KerasShape(d[1], d[2], d[0]) : new KerasShape(d);
    }

    /// <summary>Keras's text with <c>None</c> for the batch: <c>(None, 62, 62, 32)</c>.</summary>
    public string WithBatch() => "(None, " + string.Join(", ", dims) + ")";

    /// <summary>Python tuple text: <c>(64, 64, 3)</c>, <c>(784,)</c>.</summary>
    public override string ToString() => Format(dims);

    private static string Format(int[] d) => d.Length == 1 ? $"({d[0]},)" : "(" + string.Join(", ", d) + ")";

    public bool Equals(KerasShape? other) => other is not null && dims.AsSpan().SequenceEqual(other.dims);

    public override bool Equals(object? obj) => obj is KerasShape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in dims) h.Add(d);
        return h.ToHashCode();
    }
}
