using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Crop: the first bottom cut to the second bottom's size on every axis from <c>axis</c> (default 2) on, starting at
/// <c>offset</c> (none: 0; one value: every cropped axis; else one per cropped axis). Axes before <c>axis</c> are kept whole.
/// The gradient goes into the first bottom only; the second supplies a size.
/// </summary>
public sealed class CropLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int[] offsets = [], sizes = [];

    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.CropParam ?? new CropParameter();
        Shape x = bottoms[0], like = bottoms[1];
        int rank = x.Rank;
        if (p.Axis < -rank || p.Axis >= rank) throw Error($"axis {p.Axis} is out of range for the bottom {x} with {rank} axes.");
        int axis = p.Axis < 0 ? p.Axis + rank : p.Axis;
        if (like.Rank != rank) throw Error($"the bottoms {x} and {like} must have the same number of axes.");
        if (p.Offset.Count > 1 && p.Offset.Count != rank - axis)
            throw Error($"{p.Offset.Count} offsets given; cropping from axis {axis} of {x} takes 1 or {rank - axis}.");
        offsets = new int[rank];
        sizes = x.ToArray();
        for (int i = axis; i < rank; i++)
        {
            long offset = p.Offset.Count == 0 ? 0 : p.Offset[p.Offset.Count == 1 ? 0 : i - axis];
            if (offset + like[i] > x[i])
                throw Error($"axis {i}: cropping {like[i]} at offset {offset} does not fit the first bottom's size {x[i]} ({x} cropped like {like}).");
            offsets[i] = (int)offset;
            sizes[i] = like[i];
        }
        return [new Shape(sizes)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0].Crop(offsets, sizes)];
}
