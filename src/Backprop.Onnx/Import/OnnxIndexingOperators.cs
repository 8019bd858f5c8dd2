namespace Backprop.Onnx.Import;

/// <summary>
/// Gather, Unsqueeze, Squeeze, Slice, Cast and ConstantOfShape on float tensors, built from core ops (IndexSelect,
/// Crop, Reshape) so gradients flow. Their integer arguments (indices, axes, starts) may be computed by the graph; the
/// integer forms of the same operators are in <see cref="OnnxShapeOperators"/>.
/// </summary>
internal static class OnnxIndexingOperators
{
    /// <summary>Gather along axis: the indexed slices, the axis replaced by the indices' shape (a scalar index removes it).</summary>
    public static OnnxKernel Gather(OnnxNodeContext c)
    {
        long axisAttribute = c.Int("axis", 0);
        var indices = OnnxShapeRules.IntegerArgument(c, 1, "", 0, "indices");
        if (!c.HasInput(1)) throw c.Error("it has no indices input.");
        return c.Named((x, _) =>
        {
            var data = x[0]!;
            int axis = OnnxShapeRules.Axis(axisAttribute, data.Rank, "axis");
            long[] picked = indices(x)!;
            int[] indexDims = c.KnownInput(1)?.Dims ?? x.Dims(1);
            var selected = data.IndexSelect(axis, OnnxShapeRules.Indices(picked, data.Shape[axis]));
            int[] dims = data.Shape.ToArray();
            return selected.Reshape([.. dims[..axis], .. indexDims, .. dims[(axis + 1)..]]);
        });
    }

    public static OnnxKernel Unsqueeze(OnnxNodeContext c)
    {
        var axes = OnnxShapeRules.IntegerArgument(c, 1, "axes", 13, "axes");
        return c.Named((x, _) => x[0]!.Reshape(OnnxShapeRules.Unsqueeze(x[0]!.Shape.ToArray(), axes(x) ?? throw new ArgumentException("it has no axes."))));
    }

    public static OnnxKernel Squeeze(OnnxNodeContext c)
    {
        var axes = OnnxShapeRules.IntegerArgument(c, 1, "axes", 13, "axes");
        return c.Named((x, _) => x[0]!.Reshape(OnnxShapeRules.Squeeze(x[0]!.Shape.ToArray(), axes(x))));
    }

    /// <summary>Slice: one Crop for the axes taken with step 1, then an IndexSelect per axis with another step.</summary>
    public static OnnxKernel Slice(OnnxNodeContext c)
    {
        var (starts, ends, axes, steps) = OnnxShapeOperators.SliceArguments(c);
        return c.Named((x, _) =>
        {
            var data = x[0]!;
            int[] dims = data.Shape.ToArray();
            var ranges = OnnxShapeRules.Slice(dims, starts(x) ?? [], ends(x) ?? [], axes(x), steps(x));
            int[] offsets = [.. ranges.Select(r => r.Step == 1 ? r.Start : 0)];
            int[] sizes = [.. ranges.Select((r, a) => r.Step == 1 ? r.Count : dims[a])];
            var y = offsets.Any(o => o != 0) || !sizes.SequenceEqual(dims) ? data.Crop(offsets, sizes) : data;
            for (int a = 0; a < ranges.Length; a++)
                if (ranges[a].Step != 1)
                    y = y.IndexSelect(a, [.. Enumerable.Range(0, ranges[a].Count).Select(i => ranges[a].Start + i * ranges[a].Step)]);
            return y;
        });
    }

    /// <summary>Cast to a float type: floats kept (as float32), integers converted.</summary>
    public static OnnxKernel Cast(OnnxNodeContext c)
    {
        long to = c.Int("to", 0);
        if (!OnnxShapeRules.IsFloatType(to)) throw c.Error($"it casts to element type {to}; Backprop imports casts to float or integer types only.");
        return c.Named((x, _) => x[0] ?? x.Integers(0)!.ToTensor());
    }

    /// <summary>ConstantOfShape with a float value (default 0): a tensor of the shape its input gives, computed or known.</summary>
    public static OnnxKernel ConstantOfShape(OnnxNodeContext c)
    {
        float value = 0;
        if (c.Attribute("value") is { T: { } t })
        {
            var read = OnnxTensorReader.Read(t, c.Path, $"ConstantOfShape {c.Label} value");
            if (read.Floats is not { Length: 1 } single) throw c.Error("its value must hold one element.");
            value = single[0];
        }
        var shape = OnnxShapeRules.IntegerArgument(c, 0, "", 0, "shape");
        return c.Named((x, _) => Tensor.Full(value, OnnxShapeRules.CheckedDims(shape(x) ?? throw new ArgumentException("it has no shape input."), $"{c.Path}: node {c.Label}'s output")));
    }
}
