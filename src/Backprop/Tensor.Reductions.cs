using System.Numerics.Tensors;

namespace Backprop;

// Reductions over all elements or one axis. An axis reduction views the tensor as
// (outer, n, inner) and reduces the middle dimension, adding in a fixed order.
public partial class Tensor
{
    /// <summary>Sum of all elements, as a rank-0 tensor.</summary>
    public Tensor Sum()
    {
        var y = Scalar(TensorPrimitives.Sum(Data));
        Shape s = Shape;
        return Record(y, "SumBackward", (g, _) => [Full(g.Item(), s.ToArray())], this);
    }

    /// <summary>Mean of all elements, as a rank-0 tensor.</summary>
    public Tensor Mean()
    {
        if (Length == 0) throw new InvalidOperationException("Mean() of an empty tensor.");
        var y = Scalar(TensorPrimitives.Sum(Data) / Length);
        Shape s = Shape;
        int n = Length;
        return Record(y, "MeanBackward", (g, _) => [Full(g.Item() / n, s.ToArray())], this);
    }

    /// <summary>Sum over <paramref name="axis"/>; the axis is removed unless <paramref name="keepDim"/>.</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        var (outer, n, inner, outShape) = SplitAt(axis, keepDim);
        var y = Tensor.Result(outShape);
        ReduceSum(Data, outer, n, inner, y.AsSpan());
        Shape inShape = Shape;
        Shape kept = KeptShape(axis);
        return Record(y, "SumBackward", (g, _) => [Expand(g, kept, inShape)], this);
    }

    /// <summary>Mean over <paramref name="axis"/>.</summary>
    public Tensor Mean(int axis, bool keepDim = false)
    {
        int n = Shape[axis];
        return Sum(axis, keepDim) / n;
    }

    /// <summary>Largest element, as a rank-0 tensor; the gradient goes to the first maximum.</summary>
    public Tensor Max()
    {
        if (Length == 0) throw new InvalidOperationException("Max() of an empty tensor.");
        int i = ArgMax();
        var y = Scalar(Data[i]);
        Shape s = Shape;
        return Record(y, "MaxBackward", (g, _) =>
        {
            var dx = Tensor.Result(s);
            dx.Storage[i] = g.Item();
            return [dx];
        }, this);
    }

    /// <summary>Largest element along <paramref name="axis"/>; the gradient goes to the first maximum.</summary>
    public Tensor Max(int axis, bool keepDim = false)
    {
        var (outer, n, inner, outShape) = SplitAt(axis, keepDim);
        var y = Tensor.Result(outShape);
        int[] arg = ArgMaxAlong(outer, n, inner);
        var x = Data;
        var yd = y.AsSpan();
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
                yd[o * inner + j] = x[(o * n + arg[o * inner + j]) * inner + j];
        Shape inShape = Shape;
        return Record(y, "MaxBackward", (g, _) =>
        {
            var dx = Tensor.Result(inShape);
            var gd = g.Data;
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                    d[(o * n + arg[o * inner + j]) * inner + j] = gd[o * inner + j];
            return [dx];
        }, this);
    }

    /// <summary>Flat (row-major) index of the first largest element; NaN counts as largest.</summary>
    public int ArgMax()
    {
        if (Length == 0) throw new InvalidOperationException("ArgMax() of an empty tensor.");
        var x = Data;
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (float.IsNaN(x[best])) break;
            if (x[i] > x[best] || float.IsNaN(x[i])) best = i;
        }
        return best;
    }

    /// <summary>Index of the first largest element along <paramref name="axis"/>, one per remaining position (row-major).</summary>
    public int[] ArgMax(int axis)
    {
        var (outer, n, inner, _) = SplitAt(axis, false);
        return ArgMaxAlong(outer, n, inner);
    }

    private int[] ArgMaxAlong(int outer, int n, int inner)
    {
        if (n == 0) throw new InvalidOperationException($"Cannot take a maximum over an empty axis (shape {Shape}).");
        var x = Data;
        var arg = new int[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int baseIndex = o * n * inner + j;
                int best = 0;
                float bestValue = x[baseIndex];
                for (int k = 1; k < n && !float.IsNaN(bestValue); k++)
                {
                    float v = x[baseIndex + k * inner];
                    if (v > bestValue || float.IsNaN(v)) { best = k; bestValue = v; }
                }
                arg[o * inner + j] = best;
            }
        return arg;
    }

    private static void ReduceSum(ReadOnlySpan<float> x, int outer, int n, int inner, Span<float> y)
    {
        y.Clear();
        for (int o = 0; o < outer; o++)
        {
            var dst = y.Slice(o * inner, inner);
            for (int k = 0; k < n; k++)
                TensorPrimitives.Add(dst, x.Slice((o * n + k) * inner, inner), dst);
        }
    }

    private (int Outer, int N, int Inner, Shape OutShape) SplitAt(int axis, bool keepDim)
    {
        int a = Shape.NormalizeAxis(axis);
        var dims = Shape.Dims;
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= dims[i];
        for (int i = a + 1; i < dims.Length; i++) inner *= dims[i];
        return (outer, dims[a], inner, keepDim ? KeptShape(a) : RemovedShape(a));
    }

    private Shape KeptShape(int axis)
    {
        var d = Shape.ToArray();
        d[Shape.NormalizeAxis(axis)] = 1;
        return new Shape(d);
    }

    private Shape RemovedShape(int axis)
    {
        var d = new List<int>(Shape.ToArray());
        d.RemoveAt(Shape.NormalizeAxis(axis));
        return new Shape(d.ToArray());
    }

    /// <summary>Broadcasts <paramref name="g"/> (viewed with shape <paramref name="kept"/>) to <paramref name="shape"/>.</summary>
    private static Tensor Expand(Tensor g, Shape kept, Shape shape)
    {
        var y = Tensor.Result(shape);
        Kernels.Broadcasting.Binary<Kernels.AddOperator>(g.Data, kept.Dims, [0f], [], shape.Dims, y.AsSpan());
        return y;
    }
}
