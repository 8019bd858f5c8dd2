using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>
/// The shape rules that the float and the integer forms of Gather, Unsqueeze, Squeeze, Slice and Reshape share, and the
/// reading of their integer arguments (axes, starts, shapes): an attribute in older opsets, else an input that is
/// either known at import (an initializer, a Constant, or folded from them) or computed by the graph at run time.
/// </summary>
internal static class OnnxShapeRules
{
    /// <summary>
    /// Reads integer argument <paramref name="index"/> of the node: from attribute <paramref name="attribute"/> before
    /// opset <paramref name="inputSince"/>, else from the input, known now or given at run time. Null when absent.
    /// </summary>
    public static Func<OnnxInputs, long[]?> IntegerArgument(OnnxNodeContext c, int index, string attribute, long inputSince, string what)
    {
        if (c.Opset < inputSince)
        {
            var fixedValues = c.Ints(attribute);
            return _ => fixedValues;
        }
        if (!c.HasInput(index)) return _ => null;
        if (c.KnownInput(index) is { } known)
        {
            var values = known.Longs ?? throw c.Error($"its {what} ('{c.Node.Input[index]}') is not an integer tensor.");
            return _ => values;
        }
        if (!c.IsInteger(index))
            throw c.Error($"its {what} ('{c.Node.Input[index]}') is a float tensor computed by the graph; it must be integers (an initializer, a Constant, or shape arithmetic such as Shape → Gather → Concat).");
        return x => x.Longs(index, what);
    }

    /// <summary>Axis <paramref name="axis"/> (negative counts from the end) of a tensor of rank <paramref name="rank"/>, checked.</summary>
    public static int Axis(long axis, int rank, string what)
    {
        if (axis < -rank || axis >= rank) throw new ArgumentException($"{what} {axis} is outside a tensor of rank {rank}.");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>The element count of <paramref name="dims"/>, refusing negative sizes and totals a tensor may not hold.</summary>
    public static int[] CheckedDims(long[] dims, string what)
    {
        OnnxTensorReader.ElementCount(dims, what);
        return [.. dims.Select(d => (int)d)];
    }

    /// <summary>Unsqueeze: a 1 inserted at each of <paramref name="axes"/> (axes of the output, which may be negative).</summary>
    public static int[] Unsqueeze(int[] dims, long[] axes)
    {
        int rank = dims.Length + axes.Length;
        var inserted = new bool[rank];
        foreach (long a in axes)
        {
            int axis = Axis(a, rank, "axis");
            if (inserted[axis]) throw new ArgumentException($"axis {a} is given twice.");
            inserted[axis] = true;
        }
        var result = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) result[i] = inserted[i] ? 1 : dims[j++];
        return result;
    }

    /// <summary>Squeeze: the axes of size 1 listed in <paramref name="axes"/> removed, or every axis of size 1 when null.</summary>
    public static int[] Squeeze(int[] dims, long[]? axes)
    {
        if (axes is null) return [.. dims.Where(d => d != 1)];
        var removed = new HashSet<int>(axes.Select(a => Axis(a, dims.Length, "axis")));
        foreach (int axis in removed)
            if (dims[axis] != 1) throw new ArgumentException($"axis {axis} of shape [{string.Join(", ", dims)}] has size {dims[axis]}, not 1.");
        return [.. dims.Where((_, i) => !removed.Contains(i))];
    }

    /// <summary>Reshape's target: 0 copies the input's size there (unless allowzero), one −1 takes what is left.</summary>
    public static int[] Reshape(int[] input, long[] target, bool allowZero)
    {
        var dims = new int[target.Length];
        long length = input.Aggregate(1L, (a, b) => a * b);
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = target[i] == 0 && !allowZero
                ? (i < input.Length ? input[i] : throw new ArgumentException($"shape entry {i} is 0 (copy) but the input [{string.Join(", ", input)}] has no axis {i}."))
                : target[i];
            if (d == -1) { if (infer >= 0) throw new ArgumentException("the shape has two −1 entries."); infer = i; continue; }
            if (d < 0 || d > int.MaxValue) throw new ArgumentException($"shape entry {d} is invalid.");
            dims[i] = (int)d;
            known = known > int.MaxValue ? known : known * d;   // past int.MaxValue it cannot match: stop before it overflows
        }
        if (infer >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"shape [{string.Join(", ", target)}] cannot hold the {length} elements of [{string.Join(", ", input)}].");
            dims[infer] = (int)(length / known);
        }
        else if (known != length)
            throw new ArgumentException($"shape [{string.Join(", ", target)}] holds {known} elements, not the {length} of [{string.Join(", ", input)}].");
        return dims;
    }

    /// <summary>Gather's indices along an axis of size <paramref name="size"/>, negative ones counted from the end, checked.</summary>
    public static int[] Indices(long[] indices, int size) =>
        [.. indices.Select(i => i >= -size && i < size ? (int)(i < 0 ? i + size : i) : throw new ArgumentException($"index {i} is outside an axis of size {size}."))];

    /// <summary>One axis of a Slice: the first index taken, the step, and how many are taken.</summary>
    public readonly record struct Range(int Start, int Step, int Count);

    /// <summary>ONNX Slice's clamping rules, per axis of <paramref name="dims"/> (axes not listed are taken whole).</summary>
    public static Range[] Slice(int[] dims, long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        if (ends.Length != starts.Length || axes is not null && axes.Length != starts.Length || steps is not null && steps.Length != starts.Length)
            throw new ArgumentException($"starts, ends, axes and steps differ in length ({starts.Length}, {ends.Length}, {axes?.Length}, {steps?.Length}).");
        var ranges = dims.Select(d => new Range(0, 1, d)).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = Axis(axes?[i] ?? i, dims.Length, "axis");
            long step = steps?[i] ?? 1, dim = dims[axis];
            if (step == 0) throw new ArgumentException($"step 0 on axis {axis}.");
            long start = starts[i] < 0 ? starts[i] + dim : starts[i], end = ends[i] < 0 ? ends[i] + dim : ends[i];
            long count;
            if (step > 0)
            {
                start = Math.Clamp(start, 0, dim);
                end = Math.Clamp(end, 0, dim);
                count = end > start ? (end - start - 1) / step + 1 : 0;   // written so a huge step cannot overflow
            }
            else if (dim == 0)
            {
                start = 0;
                count = 0;
            }
            else
            {
                start = Math.Clamp(start, 0, dim - 1);
                end = Math.Clamp(end, -1, dim - 1);
                count = start > end ? (step == long.MinValue ? 1 : (start - end - 1) / -step + 1) : 0;
            }
            ranges[axis] = new Range((int)start, (int)Math.Clamp(step, int.MinValue, int.MaxValue), (int)count);
        }
        return ranges;
    }

    /// <summary>Whether an ONNX element type (Cast's <c>to</c>, a tensor's data_type) holds integers (bool as 0/1) rather than floats.</summary>
    public static bool IsIntegerType(long type) => (TensorProto.Types.DataType)type is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32
        or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Uint16
        or TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 or TensorProto.Types.DataType.Bool;

    /// <summary>Whether an ONNX element type holds floats (imported as float32).</summary>
    public static bool IsFloatType(long type) => (TensorProto.Types.DataType)type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double
        or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16;
}
