namespace Backprop.Keras;

/// <summary>
/// The y of Fit/Evaluate, checked once and held row by row: float rows (one-hot, binary or regression targets)
/// or integer class labels (sparse_categorical_crossentropy).
/// </summary>
internal sealed class Targets
{
    private Targets(int count, float[]? values, int width, int[]? labels)
    {
        Count = count;
        Values = values;
        Width = width;
        Labels = labels;
    }

    public int Count { get; }

    /// <summary>Row-major float targets (Count × Width), or null for labels.</summary>
    public float[]? Values { get; }

    public int Width { get; }

    /// <summary>Class labels, or null for float targets.</summary>
    public int[]? Labels { get; }

    public static Targets FromLabels(int[] labels, string what)
    {
        ArgumentNullException.ThrowIfNull(labels, what);
        return new Targets(labels.Length, null, 1, (int[])labels.Clone());
    }

    /// <summary>y as a tensor; for sparse losses its values must be whole class indices, shape (N) or (N, 1).</summary>
    public static Targets FromTensor(Tensor y, bool sparse, string what)
    {
        ArgumentNullException.ThrowIfNull(y, what);
        if (y.Rank == 0) throw new ArgumentException($"{what} must have a batch dimension, got shape {y.Shape}.");
        int n = y.Shape[0];
        var data = y.ToArray();
        if (sparse)
        {
            if (y.Length != n)
                throw new ArgumentException($"{what} for sparse_categorical_crossentropy must hold one class index per sample, shape ({n}) or ({n}, 1), got {y.Shape}; use categorical_crossentropy for one-hot targets.");
            var labels = new int[n];
            for (int i = 0; i < n; i++)
            {
                float v = data[i];
                if (!(v >= 0) || v != MathF.Floor(v) || v > int.MaxValue)
                    throw new ArgumentException($"{what}[{i}] = {v} is not a class index (a whole number ≥ 0).");
                labels[i] = (int)v;
            }
            return new Targets(n, null, 1, labels);
        }
        int width = n == 0 ? 1 : y.Length / n;
        return new Targets(n, data, y.Rank == 1 ? 1 : width, null);
    }

    /// <summary>The targets of rows <paramref name="rows"/>[start..start+count).</summary>
    public (Tensor? Values, int[]? Labels) Gather(int[] rows, int start, int count)
    {
        if (Labels is not null)
        {
            var l = new int[count];
            for (int i = 0; i < count; i++) l[i] = Labels[rows[start + i]];
            return (null, l);
        }
        var v = new float[count * Width];
        for (int i = 0; i < count; i++) Array.Copy(Values!, rows[start + i] * Width, v, i * Width, Width);
        return (Tensor.FromArray(v, count, Width), null);
    }

    /// <summary>Rows [from, to) as a new set, for the validation split.</summary>
    public Targets Range(int from, int to) => Labels is not null
        ? new Targets(to - from, null, 1, Labels[from..to])
        : new Targets(to - from, Values![(from * Width)..(to * Width)], Width, null);
}
