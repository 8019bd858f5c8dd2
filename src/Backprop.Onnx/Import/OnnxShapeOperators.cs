using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>
/// Shape arithmetic on integer tensors, as PyTorch writes <c>x.view(x.size(0), -1)</c>: Shape → Gather → Unsqueeze →
/// Concat → Reshape, with Slice, Squeeze, Cast, ConstantOfShape and integer Add/Sub/Mul/Div. These nodes run on each
/// forward pass from the actual input's shape, so a dynamic batch stays dynamic; where every input is known at import
/// the importer folds them into constants. <see cref="GivesIntegers"/> says which nodes run here; the same operators on
/// float tensors are in <see cref="OnnxIndexingOperators"/>.
/// </summary>
internal static class OnnxShapeOperators
{
    /// <summary>The operators that only this file handles (Shape); the rest are also float operators.</summary>
    public static readonly IReadOnlyList<string> IntegerOnly = ["Shape"];

    /// <summary>Whether <paramref name="c"/>'s node gives an integer tensor, given which values are integers.</summary>
    public static bool GivesIntegers(OnnxNodeContext c, Func<string, bool> isInteger)
    {
        var inputs = c.Node.Input.Where(n => n.Length > 0).ToList();
        return c.Node.OpType switch
        {
            "Shape" => true,
            "Cast" => OnnxShapeRules.IsIntegerType(c.Int("to", 0)),
            "ConstantOfShape" => c.Attribute("value") is { T: { } t } && OnnxShapeRules.IsIntegerType(t.DataType),
            "Gather" or "Unsqueeze" or "Squeeze" or "Slice" or "Identity" or "Reshape" => inputs.Count > 0 && isInteger(c.Node.Input[0]),
            "Concat" or "Add" or "Sub" or "Mul" or "Div" => inputs.Count > 0 && inputs.All(isInteger),
            _ => false,
        };
    }

    /// <summary>The integer kernel for a node <see cref="GivesIntegers"/> chose.</summary>
    public static OnnxIntegerKernel Compile(OnnxNodeContext c)
    {
        OnnxIntegerKernel kernel = c.Node.OpType switch
        {
        "Shape" => Shape(c),
        "Gather" => Gather(c),
        "Unsqueeze" => Reshaped(c, OnnxShapeRules.IntegerArgument(c, 1, "axes", 13, "axes"), (dims, axes) => OnnxShapeRules.Unsqueeze(dims, axes ?? throw new ArgumentException("it has no axes."))),
        "Squeeze" => Reshaped(c, OnnxShapeRules.IntegerArgument(c, 1, "axes", 13, "axes"), OnnxShapeRules.Squeeze),
        "Reshape" => Reshaped(c, OnnxShapeRules.IntegerArgument(c, 1, "shape", 0, "shape"), (dims, shape) => OnnxShapeRules.Reshape(dims, shape!, c.Int("allowzero", 0) != 0)),
        "Identity" => x => Data(x, 0),
        "Concat" => Concat(c),
        "Slice" => Slice(c),
        "Cast" => Cast(c),
        "ConstantOfShape" => ConstantOfShape(c),
        "Add" => Arithmetic((a, b) => a + b),
        "Sub" => Arithmetic((a, b) => a - b),
        "Mul" => Arithmetic((a, b) => a * b),
        "Div" => Arithmetic((a, b) => b != 0 ? a / b : throw new ArgumentException("integer division by zero.")),
        _ => throw c.Error("it has no integer form."),
        };
        return c.Named(kernel);
    }

    private static OnnxTensorData Data(OnnxInputs x, int i) => x.Integers(i) ?? throw new ArgumentException($"input {i} is not an integer tensor.");

    private static OnnxTensorData Ints(int[] dims, long[] values) => new("", dims, null, values);

    // Shape (opset 15 adds start/end, clamped like Slice's).
    private static OnnxIntegerKernel Shape(OnnxNodeContext c)
    {
        long start = c.Int("start", 0);
        long? end = c.Attribute("end") is { } e ? e.I : null;
        return x =>
        {
            long[] dims = [.. x.Dims(0).Select(d => (long)d)];
            var r = OnnxShapeRules.Slice([dims.Length], [start], [end ?? dims.Length], null, null)[0];
            return Ints([r.Count], dims.AsSpan(r.Start, r.Count).ToArray());
        };
    }

    // Values kept, dims changed by rule (Unsqueeze, Squeeze, Reshape).
    private static OnnxIntegerKernel Reshaped(OnnxNodeContext c, Func<OnnxInputs, long[]?> argument, Func<int[], long[]?, int[]> rule) => x =>
    {
        var data = Data(x, 0);
        return Ints(rule(data.Dims, argument(x)), data.Longs!);
    };

    // Gather along axis: out dims = data[:axis] + indices + data[axis+1:].
    private static OnnxIntegerKernel Gather(OnnxNodeContext c)
    {
        long axisAttribute = c.Int("axis", 0);
        return x =>
        {
            var data = Data(x, 0);
            var indices = Data(x, 1);
            int axis = OnnxShapeRules.Axis(axisAttribute, data.Dims.Length, "axis");
            int[] picked = OnnxShapeRules.Indices(indices.Longs!, data.Dims[axis]);
            int outer = data.Dims[..axis].Aggregate(1, (a, b) => a * b), inner = data.Dims[(axis + 1)..].Aggregate(1, (a, b) => a * b);
            var values = new long[outer * picked.Length * inner];
            for (int o = 0, k = 0; o < outer; o++)
                foreach (int p in picked)
                    for (int i = 0; i < inner; i++) values[k++] = data.Longs![(o * data.Dims[axis] + p) * inner + i];
            return Ints([.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]], values);
        };
    }

    private static OnnxIntegerKernel Concat(OnnxNodeContext c)
    {
        long axisAttribute = c.Int("axis", 0);
        return x =>
        {
            var parts = Enumerable.Range(0, x.Length).Select(i => Data(x, i)).ToList();
            int[] first = parts[0].Dims;
            int axis = OnnxShapeRules.Axis(axisAttribute, first.Length, "axis");
            foreach (var p in parts)
                if (p.Dims.Length != first.Length || p.Dims.Where((d, i) => i != axis && d != first[i]).Any())
                    throw new ArgumentException($"shapes [{string.Join(", ", first)}] and [{string.Join(", ", p.Dims)}] do not join on axis {axis}.");
            int outer = first[..axis].Aggregate(1, (a, b) => a * b);
            var values = new List<long>();
            for (int o = 0; o < outer; o++)
                foreach (var p in parts)
                {
                    int block = p.Longs!.Length / Math.Max(outer, 1);
                    values.AddRange(p.Longs.AsSpan(o * block, block).ToArray());
                }
            int[] dims = (int[])first.Clone();
            dims[axis] = parts.Sum(p => p.Dims[axis]);
            return Ints(dims, [.. values]);
        };
    }

    // Slice (opset 10+: starts, ends, axes, steps as inputs; before: attributes), any rank, by walking the output's indices.
    private static OnnxIntegerKernel Slice(OnnxNodeContext c)
    {
        var (starts, ends, axes, steps) = SliceArguments(c);
        return x =>
        {
            var data = Data(x, 0);
            var ranges = OnnxShapeRules.Slice(data.Dims, starts(x) ?? [], ends(x) ?? [], axes(x), steps(x));
            int[] dims = [.. ranges.Select(r => r.Count)];
            var values = new long[dims.Aggregate(1, (a, b) => a * b)];
            var index = new int[dims.Length];
            for (int k = 0; k < values.Length; k++)
            {
                long source = 0;
                for (int a = 0; a < dims.Length; a++) source = source * data.Dims[a] + ranges[a].Start + (long)index[a] * ranges[a].Step;
                values[k] = data.Longs![source];
                for (int a = dims.Length - 1; a >= 0 && ++index[a] == dims[a]; a--) index[a] = 0;
            }
            return Ints(dims, values);
        };
    }

    /// <summary>Slice's starts, ends, axes and steps: attributes before opset 10, inputs 1–4 from it on.</summary>
    public static (Func<OnnxInputs, long[]?> Starts, Func<OnnxInputs, long[]?> Ends, Func<OnnxInputs, long[]?> Axes, Func<OnnxInputs, long[]?> Steps) SliceArguments(OnnxNodeContext c)
    {
        var starts = OnnxShapeRules.IntegerArgument(c, 1, "starts", 10, "starts");
        var ends = OnnxShapeRules.IntegerArgument(c, 2, "ends", 10, "ends");
        var axes = OnnxShapeRules.IntegerArgument(c, 3, "axes", 10, "axes");
        Func<OnnxInputs, long[]?> steps = c.Opset < 10 ? _ => null : OnnxShapeRules.IntegerArgument(c, 4, "steps", 10, "steps");
        if (c.Opset < 10 && (c.Ints("starts") is null || c.Ints("ends") is null)) throw c.Error("it has no starts or ends.");
        if (c.Opset >= 10 && (!c.HasInput(1) || !c.HasInput(2))) throw c.Error("it has no starts or ends input.");
        return (starts, ends, axes, steps);
    }

    // To an integer type: integers kept (bool as 0/1), floats truncated toward zero as ONNX's Cast does.
    private static OnnxIntegerKernel Cast(OnnxNodeContext c)
    {
        bool toBool = c.Int("to", 0) == (long)TensorProto.Types.DataType.Bool;
        return x =>
        {
            var source = x.Integers(0);
            long[] values = source?.Longs ?? [.. x[0]!.ToArray().Select(v => float.IsNaN(v) ? 0 : (long)Math.Clamp(Math.Truncate((double)v), -9e18, 9e18))];
            if (toBool) values = [.. values.Select(v => v != 0 ? 1L : 0L)];
            return Ints(x.Dims(0), values);
        };
    }

    private static OnnxIntegerKernel ConstantOfShape(OnnxNodeContext c)
    {
        var value = OnnxTensorReader.Read(c.Attribute("value")!.T, c.Path, $"ConstantOfShape {c.Label} value");
        if (value.Longs is not { Length: 1 } single) throw c.Error("its value must hold one element.");
        return x =>
        {
            int[] dims = OnnxShapeRules.CheckedDims(x.Longs(0, "shape"), $"{c.Path}: node {c.Label}'s output");
            var values = new long[dims.Aggregate(1, (a, b) => a * b)];
            Array.Fill(values, single[0]);
            return Ints(dims, values);
        };
    }

    // Elementwise on equal shapes, or with one side a single element (the broadcasting shape arithmetic uses).
    private static OnnxIntegerKernel Arithmetic(Func<long, long, long> op) => x =>
    {
        OnnxTensorData a = Data(x, 0), b = Data(x, 1);
        if (a.Longs!.Length == 1 && b.Longs!.Length != 1) return Ints(Broadcast(a.Dims, b.Dims), [.. b.Longs.Select(v => op(a.Longs[0], v))]);
        if (b.Longs!.Length == 1) return Ints(Broadcast(a.Dims, b.Dims), [.. a.Longs.Select(v => op(v, b.Longs[0]))]);
        if (!a.Dims.SequenceEqual(b.Dims)) throw new ArgumentException($"integer shapes [{string.Join(", ", a.Dims)}] and [{string.Join(", ", b.Dims)}] differ; only equal shapes or a single element broadcast.");
        return Ints(a.Dims, [.. a.Longs.Zip(b.Longs, op)]);
    };

    // The shape of a single element broadcast against another tensor: both aligned at the right, each axis the larger.
    private static int[] Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
            dims[i] = Math.Max(i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1, i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1);
        return dims;
    }
}
