namespace Backprop;

/// <summary>The dimensions of a tensor, outermost first (row-major). Immutable.</summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly int[] dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long length = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Shape {Format(dims)} has a negative dimension.");
            length *= d;
            if (length > Array.MaxLength) throw new ArgumentException($"Shape {Format(dims)} has more elements than an array can hold.");
        }
        this.dims = (int[])dims.Clone();
        Length = (int)length;
    }

    /// <summary>Number of dimensions.</summary>
    public int Rank => dims.Length;

    /// <summary>Number of elements (product of the dimensions; 1 for a scalar).</summary>
    public int Length { get; }

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => dims[NormalizeAxis(axis)];

    public int[] ToArray() => (int[])dims.Clone();

    internal ReadOnlySpan<int> Dims => dims;

    /// <summary>Maps a possibly negative axis to [0, Rank), or throws naming the shape.</summary>
    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + dims.Length : axis;
        if (a < 0 || a >= dims.Length)
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for a tensor of shape {this} (rank {Rank}).");
        return a;
    }

    /// <summary>Row-major strides in elements.</summary>
    public int[] Strides()
    {
        var s = new int[dims.Length];
        int acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /// <summary>The shape two operands broadcast to (NumPy rules), or an error naming both.</summary>
    public static Shape Broadcast(Shape a, Shape b)
    {
        if (a.Equals(b)) return a;
        int rank = Math.Max(a.Rank, b.Rank);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a.dims[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b.dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {a} and {b} cannot be broadcast together (dimension {i}: {da} vs {db}).");
            r[i] = da == 1 ? db : da;
        }
        return new Shape(r);
    }

    public bool Equals(Shape? other) => other is not null && dims.AsSpan().SequenceEqual(other.dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>Formats as PyTorch does for a size: <c>(2, 3)</c>.</summary>
    public override string ToString() => Format(dims);

    private static string Format(int[] d) => d.Length == 1 ? $"({d[0]},)" : "(" + string.Join(", ", d) + ")";

    public static implicit operator Shape(int[] dims) => new(dims);
}
