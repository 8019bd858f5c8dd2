using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>An elementwise binary operation, as a struct so loops over it are specialised and inlined.</summary>
public interface IBinaryOperator
{
    static abstract float Apply(float a, float b);
    /// <summary>y = op(a, b) over equal-length spans, vectorised where the operator has a TensorPrimitives form.</summary>
    static abstract void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);
    static abstract void Apply(ReadOnlySpan<float> a, float b, Span<float> y);
    static abstract void Apply(float a, ReadOnlySpan<float> b, Span<float> y);
}

public readonly struct AddOperator : IBinaryOperator
{
    public static float Apply(float a, float b) => a + b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
}

public readonly struct SubtractOperator : IBinaryOperator
{
    public static float Apply(float a, float b) => a - b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
}

public readonly struct MultiplyOperator : IBinaryOperator
{
    public static float Apply(float a, float b) => a * b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
}

public readonly struct DivideOperator : IBinaryOperator
{
    public static float Apply(float a, float b) => a / b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
}

/// <summary>NumPy-style broadcasting loops over row-major buffers.</summary>
public static class Broadcasting
{
    /// <summary>
    /// Strides (in elements) for reading a buffer of shape <paramref name="dims"/> as if it had the
    /// broadcast shape <paramref name="outDims"/>: 0 along broadcast dimensions.
    /// </summary>
    public static int[] Strides(ReadOnlySpan<int> dims, ReadOnlySpan<int> outDims)
    {
        var s = new int[outDims.Length];
        int acc = 1;
        for (int i = outDims.Length - 1; i >= 0; i--)
        {
            int j = i - (outDims.Length - dims.Length);
            int d = j >= 0 ? dims[j] : 1;
            s[i] = d == 1 ? 0 : acc;
            acc *= d;
        }
        return s;
    }

    /// <summary>y = op(a, b) with broadcasting. a, b: row-major with the given dims; y: (outDims).</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<int> aDims, ReadOnlySpan<float> b, ReadOnlySpan<int> bDims,
        ReadOnlySpan<int> outDims, Span<float> y) where TOp : IBinaryOperator
    {
        if (a.Length == y.Length && b.Length == y.Length) { TOp.Apply(a, b, y); return; }
        if (b.Length == 1 && a.Length == y.Length) { TOp.Apply(a, b[0], y); return; }
        if (a.Length == 1 && b.Length == y.Length) { TOp.Apply(a[0], b, y); return; }
        if (y.Length == 0) return;

        int rank = outDims.Length;
        int[] sa = Strides(aDims, outDims), sb = Strides(bDims, outDims);
        int inner = outDims[rank - 1];
        int ia = sa[rank - 1], ib = sb[rank - 1];
        var index = new int[rank];
        int offA = 0, offB = 0;
        for (int row = 0; row < y.Length; row += inner)
        {
            var dst = y.Slice(row, inner);
            if (ia == 1 && ib == 1) TOp.Apply(a.Slice(offA, inner), b.Slice(offB, inner), dst);
            else if (ia == 1) TOp.Apply(a.Slice(offA, inner), b[offB], dst);
            else if (ib == 1) TOp.Apply(a[offA], b.Slice(offB, inner), dst);
            else dst.Fill(TOp.Apply(a[offA], b[offB]));
            // Advance the odometer over all but the last dimension.
            for (int d = rank - 2; d >= 0; d--)
            {
                offA += sa[d]; offB += sb[d];
                if (++index[d] < outDims[d]) break;
                offA -= sa[d] * outDims[d]; offB -= sb[d] * outDims[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>
    /// Sums <paramref name="x"/> (shape <paramref name="dims"/>) down to <paramref name="targetDims"/>, which
    /// broadcasts to <paramref name="dims"/>: the reverse of broadcasting, used for gradients. y is overwritten.
    /// </summary>
    public static void SumTo(ReadOnlySpan<float> x, ReadOnlySpan<int> dims, ReadOnlySpan<int> targetDims, Span<float> y)
    {
        y.Clear();
        if (x.Length == 0) return;
        int rank = dims.Length;
        if (rank == 0) { y[0] = x[0]; return; }
        int[] st = Strides(targetDims, dims);
        int inner = dims[rank - 1];
        int it = st[rank - 1];
        var index = new int[rank];
        int off = 0;
        for (int row = 0; row < x.Length; row += inner)
        {
            var src = x.Slice(row, inner);
            if (it == 1) TensorPrimitives.Add(y.Slice(off, inner), src, y.Slice(off, inner));
            else
            {
                float s = 0;
                foreach (float v in src) s += v;
                y[off] += s;
            }
            for (int d = rank - 2; d >= 0; d--)
            {
                off += st[d];
                if (++index[d] < dims[d]) break;
                off -= st[d] * dims[d];
                index[d] = 0;
            }
        }
    }
}
