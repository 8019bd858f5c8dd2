namespace Backprop;

// Reshaping, slicing, transposing and joining. Reshape, View, Flatten, Squeeze, Unsqueeze and
// Slice share storage; Transpose, Permute and Concat copy (storage is always contiguous).
public partial class Tensor
{
    /// <summary>The same elements in a new shape (one dimension may be -1, inferred). Shares storage.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = InferShape(shape);
        var y = ViewOf(Offset, s);
        Shape original = Shape;
        return Record(y, "ViewBackward", (g, _) => [g.Detach().Reshape(original.ToArray())], this);
    }

    /// <summary>Same as <see cref="Reshape"/>: storage is contiguous, so every reshape is a view.</summary>
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Merges dimensions <paramref name="startAxis"/>..<paramref name="endAxis"/> into one.</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1)
    {
        if (Rank == 0) return Reshape(1);
        int a = Shape.NormalizeAxis(startAxis), b = Shape.NormalizeAxis(endAxis);
        if (a > b) throw new ArgumentException($"Flatten: start axis {startAxis} comes after end axis {endAxis} for shape {Shape}.");
        var dims = new List<int>();
        for (int i = 0; i < a; i++) dims.Add(Shape[i]);
        int merged = 1;
        for (int i = a; i <= b; i++) merged *= Shape[i];
        dims.Add(merged);
        for (int i = b + 1; i < Rank; i++) dims.Add(Shape[i]);
        return Reshape(dims.ToArray());
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/>.</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Unsqueeze axis {axis} is out of range for shape {Shape}.");
        var d = new List<int>(Shape.ToArray());
        d.Insert(a, 1);
        return Reshape(d.ToArray());
    }

    /// <summary>Removes dimension <paramref name="axis"/>, which must have size 1.</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Shape.NormalizeAxis(axis);
        if (Shape[a] != 1) throw new ArgumentException($"Squeeze: dimension {axis} of shape {Shape} has size {Shape[a]}, not 1.");
        var d = new List<int>(Shape.ToArray());
        d.RemoveAt(a);
        return Reshape(d.ToArray());
    }

    private Shape InferShape(int[] shape)
    {
        int infer = -1, known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape to ({string.Join(", ", shape)}): only one dimension can be -1.");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"Reshape to ({string.Join(", ", shape)}): negative dimension.");
            else known *= shape[i];
        }
        var dims = (int[])shape.Clone();
        if (infer >= 0)
        {
            if (known == 0 || Length % known != 0)
                throw new ArgumentException($"Cannot reshape a tensor of shape {Shape} ({Length} elements) to ({string.Join(", ", shape)}).");
            dims[infer] = Length / known;
        }
        var s = new Shape(dims);
        if (s.Length != Length)
            throw new ArgumentException($"Cannot reshape a tensor of shape {Shape} ({Length} elements) to {s} ({s.Length} elements).");
        return s;
    }

    /// <summary>Rows <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive) along the first axis, without copying.</summary>
    public Tensor Slice(int start, int end)
    {
        if (Rank == 0) throw new InvalidOperationException("Cannot slice a rank-0 tensor.");
        int rows = Shape[0];
        if (start < 0 || end > rows || start > end)
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {end}) is out of range for the first axis of shape {Shape}.");
        int rowLength = rows == 0 ? 0 : Length / rows;
        var dims = Shape.ToArray();
        dims[0] = end - start;
        var y = ViewOf(Offset + start * rowLength, new Shape(dims));
        Shape original = Shape;
        return Record(y, "SliceBackward", (g, _) =>
        {
            var dx = Tensor.Result(original);
            g.Data.CopyTo(dx.AsSpan().Slice(start * rowLength));
            return [dx];
        }, this);
    }

    /// <summary>Swaps two dimensions (copies).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var perm = new int[Rank];
        for (int i = 0; i < Rank; i++) perm[i] = i;
        int a = Shape.NormalizeAxis(axis0), b = Shape.NormalizeAxis(axis1);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        var y = PermuteCopy(perm);
        return Record(y, "TransposeBackward", (g, _) => [g.PermuteCopy(perm)], this);
    }

    /// <summary>Reorders dimensions: result dimension i is input dimension <paramref name="axes"/>[i] (copies).</summary>
    public Tensor Permute(params int[] axes)
    {
        if (axes.Length != Rank) throw new ArgumentException($"Permute needs {Rank} axes for shape {Shape}, got {axes.Length}.");
        var perm = new int[Rank];
        var seen = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int a = Shape.NormalizeAxis(axes[i]);
            if (seen[a]) throw new ArgumentException($"Permute axes ({string.Join(", ", axes)}) repeat axis {axes[i]}.");
            seen[a] = true;
            perm[i] = a;
        }
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[perm[i]] = i;
        var y = PermuteCopy(perm);
        return Record(y, "PermuteBackward", (g, _) => [g.PermuteCopy(inverse)], this);
    }

    private Tensor PermuteCopy(int[] perm)
    {
        int rank = Rank;
        var outDims = new int[rank];
        var inStrides = Shape.Strides();
        var strides = new int[rank];
        for (int i = 0; i < rank; i++) { outDims[i] = Shape[perm[i]]; strides[i] = inStrides[perm[i]]; }
        var y = Tensor.Result(new Shape(outDims));
        var dst = y.AsSpan();
        var src = Data;
        if (dst.Length == 0) return y;
        var index = new int[rank];
        int off = 0;
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = src[off];
            for (int d = rank - 1; d >= 0; d--)
            {
                off += strides[d];
                if (++index[d] < outDims[d]) break;
                off -= strides[d] * outDims[d];
                index[d] = 0;
            }
        }
        return y;
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Concat needs at least one tensor.");
        Tensor first = tensors[0];
        int a = first.Shape.NormalizeAxis(axis);
        int total = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank) throw new ArgumentException($"Concat: shapes {first.Shape} and {t.Shape} differ in rank.");
            for (int i = 0; i < t.Rank; i++)
                if (i != a && t.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"Concat along axis {axis}: shapes {first.Shape} and {t.Shape} differ in dimension {i}.");
            total += t.Shape[a];
        }
        var dims = first.Shape.ToArray();
        dims[a] = total;
        var y = Tensor.Result(new Shape(dims));
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= dims[i];
        for (int i = a + 1; i < dims.Length; i++) inner *= dims[i];
        var dst = y.AsSpan();
        var sizes = new int[tensors.Count];
        int at = 0;
        for (int t = 0; t < tensors.Count; t++)
        {
            int chunk = tensors[t].Shape[a] * inner;
            sizes[t] = tensors[t].Shape[a];
            var src = tensors[t].Data;
            for (int o = 0; o < outer; o++) src.Slice(o * chunk, chunk).CopyTo(dst.Slice(o * total * inner + at));
            at += chunk;
        }
        var shapes = tensors.Select(t => t.Shape).ToArray();
        return Record(y, "CatBackward", (g, needs) =>
        {
            var grads = new Tensor?[shapes.Length];
            var gd = g.Data;
            int start = 0;
            for (int t = 0; t < shapes.Length; t++)
            {
                int chunk = sizes[t] * inner;
                if (needs[t])
                {
                    var dx = Tensor.Result(shapes[t]);
                    var d = dx.AsSpan();
                    for (int o = 0; o < outer; o++) gd.Slice(o * total * inner + start, chunk).CopyTo(d.Slice(o * chunk));
                    grads[t] = dx;
                }
                start += chunk;
            }
            return grads;
        }, tensors.ToArray());
    }
}
