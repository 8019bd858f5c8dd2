using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Slice: cuts the bottom along <c>axis</c> (default 1; or the legacy slice_dim, not both) into one piece per
/// top, at the given slice_points (one fewer than the tops, strictly increasing), or into equal pieces without them.
/// </summary>
public sealed class SliceLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis;
    private int[] starts = [], sizes = [];

    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.SliceParam ?? new SliceParameter();
        var x = bottoms[0];
        int tops = Definition.Top.Count;
        if (p.HasAxis && p.HasSliceDim) throw Error("give either axis or slice_dim, not both.");
        long requested = p.HasSliceDim ? p.SliceDim : p.Axis;
        if (requested < (p.HasSliceDim ? 0 : -x.Rank) || requested >= x.Rank)
            throw Error($"{(p.HasSliceDim ? "slice_dim" : "axis")} {requested} is out of range for the bottom {x}.");
        axis = (int)(requested < 0 ? requested + x.Rank : requested);
        int length = x[axis];
        sizes = new int[tops];
        starts = new int[tops];
        if (p.SlicePoint.Count > 0)
        {
            if (p.SlicePoint.Count != tops - 1)
                throw Error($"has {p.SlicePoint.Count} slice_point values for {tops} tops; it needs one fewer than the tops.");
            long previous = 0;
            for (int i = 0; i < tops; i++)
            {
                long point = i < tops - 1 ? p.SlicePoint[i] : length;
                if (point <= previous || point > length)
                    throw Error($"slice_point values must increase strictly within (0, {length}) (axis {axis} of the bottom {x}); got {string.Join(", ", p.SlicePoint)}.");
                starts[i] = (int)previous;
                sizes[i] = (int)(point - previous);
                previous = point;
            }
        }
        else
        {
            if (length % tops != 0) throw Error($"{tops} tops do not evenly divide axis {axis} (size {length}) of the bottom {x}; give slice_point.");
            for (int i = 0; i < tops; i++) (starts[i], sizes[i]) = (i * (length / tops), length / tops);
        }
        return sizes.Select(size => { var dims = x.ToArray(); dims[axis] = size; return new Shape(dims); }).ToArray();
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        sizes.Length == 1 ? [bottoms[0]]
            : sizes.Select((size, i) => bottoms[0].IndexSelect(axis, Enumerable.Range(starts[i], size).ToArray())).ToArray();
}

/// <summary>
/// Caffe's Tile: repeats the bottom's block from <c>axis</c> (default 1) on, tiles times along that axis:
/// (2, 3) tiled 2 at axis 1 is (2, 6) with each row [a b c a b c].
/// </summary>
public sealed class TileLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis;
    private int[] indices = [];

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.TileParam ?? new TileParameter();
        var x = bottoms[0];
        if (!p.HasTiles) throw Error("tile_param needs tiles.");
        if (p.Tiles <= 0) throw Error($"tiles must be positive, got {p.Tiles}.");
        if (p.Axis < -x.Rank || p.Axis >= x.Rank) throw Error($"axis {p.Axis} is out of range for the bottom {x}.");
        axis = p.Axis < 0 ? p.Axis + x.Rank : p.Axis;
        long tiled = (long)x[axis] * p.Tiles;
        if (tiled > Array.MaxLength) throw Error($"tiles {p.Tiles} makes axis {axis} of the bottom {x} too long ({tiled}).");
        indices = Enumerable.Range(0, (int)tiled).Select(i => i % x[axis]).ToArray();
        var dims = x.ToArray();
        dims[axis] = (int)tiled;
        return [new Shape(dims)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0].IndexSelect(axis, indices)];
}
