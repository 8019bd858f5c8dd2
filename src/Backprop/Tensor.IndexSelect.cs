namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// The slices at <paramref name="indices"/> along <paramref name="axis"/>, in the given order (PyTorch's
    /// <c>index_select</c>): result[..., i, ...] = this[..., indices[i], ...]. The axis may be negative; indices may
    /// repeat (their gradients add up) but must lie in [0, size) as in PyTorch (no counting from the end); an empty
    /// array gives a result whose <paramref name="axis"/> has size 0. Always copies.
    /// </summary>
    /// <exception cref="ArgumentException">An index is outside [0, size) of the axis; the message names it and its position.</exception>
    public Tensor IndexSelect(int axis, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (Rank == 0) throw new InvalidOperationException("IndexSelect needs a tensor of rank 1 or more, got a rank-0 tensor.");
        int a = Shape.NormalizeAxis(axis);
        int size = Shape[a];
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)size)
                throw new ArgumentException($"IndexSelect: index {indices[i]} at position {i} is out of range [0, {size}) for axis {axis} of shape {Shape}.", nameof(indices));
        int[] picks = (int[])indices.Clone();   // the caller may change its array before backward

        var dims = Shape.ToArray();
        dims[a] = picks.Length;
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= dims[i];
        for (int i = a + 1; i < dims.Length; i++) inner *= dims[i];
        var y = Uninitialized(new Shape(dims));
        var src = Data;
        var dst = y.AsSpan();
        // x: (outer, size, inner) -> y: (outer, picks, inner)
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < picks.Length; i++)
                src.Slice((o * size + picks[i]) * inner, inner).CopyTo(dst.Slice((o * picks.Length + i) * inner, inner));

        Shape original = Shape;
        return Record(y, "IndexSelectBackward", (dy, _) =>
        {
            // Scatter-add: a repeated index receives the sum of its slices' gradients.
            var dx = Result(original);
            var g = dy.Data;
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < picks.Length; i++)
                {
                    var from = g.Slice((o * picks.Length + i) * inner, inner);
                    var to = d.Slice((o * size + picks[i]) * inner, inner);
                    System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
                }
            return [dx];
        }, this);
    }
}
