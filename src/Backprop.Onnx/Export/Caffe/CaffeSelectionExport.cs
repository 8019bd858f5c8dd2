using Backprop.Caffe.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Layers that pick part of their bottom: Slice (one Split node), Crop (one Slice node, sizes from the reference bottom's
/// shape at export time) and ArgMax (TopK). None may act on the batch axis, which stays dynamic.
/// </summary>
internal static class CaffeSelectionExport
{
    /// <summary>Slice: the pieces between slice_point values (or equal pieces) along axis (or legacy slice_dim), one Split output per top.</summary>
    public static IReadOnlyList<OnnxValue> Slice(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.SliceParam ?? new SliceParameter();
        int tops = c.Layer.Definition.Top.Count;
        if (tops == 1) return [c.X];
        int axis = p.HasSliceDim ? c.Axis((int)p.SliceDim, c.X, "slice_dim") : c.Axis(p.Axis, c.X, "axis");
        int length = c.X.SampleShape[axis - 1];
        if (p.SlicePoint.Count != 0 && p.SlicePoint.Count != tops - 1)
            throw c.Unsupported($"it has {p.SlicePoint.Count} slice_point values for {tops} tops (needs {tops - 1}).");
        if (p.SlicePoint.Count == 0 && length % tops != 0)
            throw c.Unsupported($"axis {axis} of length {length} does not split into {tops} equal pieces.");
        if (p.SlicePoint.Where((point, i) => point <= (i == 0 ? 0 : p.SlicePoint[i - 1]) || point >= length).Any())
            throw c.Unsupported($"its slice_point values [{string.Join(", ", p.SlicePoint)}] must increase strictly inside (0, {length}).");
        var sizes = new long[tops];
        long previous = 0;
        for (int i = 0; i < tops; i++)
        {
            long end = p.SlicePoint.Count == 0 ? (i + 1L) * (length / tops) : i < tops - 1 ? p.SlicePoint[i] : length;
            sizes[i] = end - previous;
            previous = end;
        }
        var shapes = sizes.Select(size =>
        {
            int[] shape = (int[])c.X.SampleShape.Clone();
            shape[axis - 1] = (int)size;
            return shape;
        }).ToArray();
        return c.Nodes("Split", "", [c.X.Name, c.Int64s("split", sizes)], shapes, Int("axis", axis));
    }

    /// <summary>
    /// Crop: the first bottom cut, on every axis from <c>axis</c> (default 2) on, to the second bottom's size there,
    /// starting at <c>offset</c> (none: 0; one value: every cropped axis; else one per axis). Axes that keep their whole
    /// length are left out of the Slice node; a crop that cuts nothing is the first bottom itself.
    /// </summary>
    public static OnnxValue Crop(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.CropParam ?? new CropParameter();
        OnnxValue x = c.X, like = c.Bottoms[1];
        int axis = c.Axis(p.Axis, x, "axis");
        if (like.Rank != x.Rank) throw c.Unsupported($"its bottoms {CaffeLayerContext.Describe(x)} and {CaffeLayerContext.Describe(like)} differ in rank.");
        int[] shape = (int[])x.SampleShape.Clone();
        List<long> starts = [], ends = [], axes = [];
        for (int i = axis; i < x.Rank; i++)
        {
            long offset = p.Offset.Count == 0 ? 0 : p.Offset[p.Offset.Count == 1 ? 0 : i - axis];
            int size = like.SampleShape[i - 1];
            if (offset + size > shape[i - 1])
                throw c.Unsupported($"axis {i}: cropping {size} at offset {offset} does not fit its first bottom {CaffeLayerContext.Describe(x)}.");
            if (offset == 0 && size == shape[i - 1]) continue;
            starts.Add(offset);
            ends.Add(offset + size);
            axes.Add(i);
            shape[i - 1] = size;
        }
        if (axes.Count == 0) return x;
        return c.Node("Slice", "", [x.Name, c.Int64s("starts", [.. starts]), c.Int64s("ends", [.. ends]), c.Int64s("axes", [.. axes])], shape);
    }

    /// <summary>
    /// ArgMax: the top_k largest values along <c>axis</c> (indices, or with out_max_val the values, in the axis's place),
    /// or without <c>axis</c> over each item flattened: indices shaped (N, 1, top_k), with out_max_val indices then values
    /// (N, 2, top_k), padded with axes of 1 to the bottom's rank. Indices are floats. Caffe breaks ties towards the larger
    /// index and ONNX's TopK towards the smaller, so indices are taken on the axis reversed and mapped back (size − 1 − i).
    /// </summary>
    public static OnnxValue ArgMax(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.ArgmaxParam ?? new ArgMaxParameter();
        var x = c.X;
        int k = (int)p.TopK;
        if (p.HasAxis)
        {
            int axis = c.Axis(p.Axis, x, "axis");
            int[] shape = (int[])x.SampleShape.Clone();
            shape[axis - 1] = k;
            // The values do not depend on how ties are ordered: no reversal for them.
            if (p.OutMaxVal) return c.Nodes("TopK", "", [x.Name, c.Int64s("k", k)], [shape, shape], Int("axis", axis), Int("largest", 1), Int("sorted", 1))[0];
            return Top(c, x, axis, k, shape, "").Indices;
        }
        int perItem = x.SampleShape.Aggregate(1, (a, b) => a * b);
        var flat = c.Unary("Flatten", x, "flat", Int("axis", 1)) with { SampleShape = [perItem] };
        int[] tail = Enumerable.Repeat(1, Math.Max(0, x.Rank - 3)).ToArray();
        int[] row = [1, k, .. tail];
        string rowShape = c.Int64s("row_shape", [0, 1, k, .. tail.Select(t => (long)t)]);
        var (values, indices) = Top(c, flat, 1, k, [k], "indices");
        if (!p.OutMaxVal) return c.Node("Reshape", "", [indices.Name, rowShape], row);
        var indexRow = c.Node("Reshape", "index_row", [indices.Name, rowShape], row);
        var valueRow = c.Node("Reshape", "value_row", [values.Name, rowShape], row);
        return c.Node("Concat", "", [indexRow.Name, valueRow.Name], [2, k, .. tail], Int("axis", 1));
    }

    // The top k along axis, largest first: their values, and their indices as floats with ties to the larger index
    // (TopK on the axis reversed, then size − 1 − i). The indices' node is named localName.
    private static (OnnxValue Values, OnnxValue Indices) Top(CaffeLayerContext c, OnnxValue x, int axis, int k, int[] shape, string localName)
    {
        string prefix = localName.Length == 0 ? "" : localName + "_";
        int size = x.SampleShape[axis - 1];
        var reversed = c.Node("Slice", prefix + "reversed", [x.Name, c.Int64s("reverse_starts", -1), c.Int64s("reverse_ends", long.MinValue),
            c.Int64s("reverse_axes", axis), c.Int64s("reverse_steps", -1)], x.SampleShape);
        var top = c.Nodes("TopK", prefix + "topk", [reversed.Name, c.Int64s("k", k)], [shape, shape], Int("axis", axis), Int("largest", 1), Int("sorted", 1));
        var original = c.Node("Sub", prefix + "original", [c.Int64s("last", size - 1), top[1].Name], shape);
        var indices = c.Node("Cast", localName, [original.Name], shape, Int("to", (int)Proto.TensorProto.Types.DataType.Float));
        return (top[0], indices);
    }
}
