using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Filter: the last bottom is a selector of N values (shape (N) or (N, 1, ...)); every other bottom, with N
/// items, passes on to its top only the items whose selector is not 0. Tops therefore have a batch size known only
/// at run time (the build assumes all N). No gradient reaches the selector; the kept items' gradients flow back.
/// </summary>
public sealed class FilterLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (2, int.MaxValue);
    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (Definition.Top.Count != bottoms.Count - 1)
            throw Error($"has {Definition.Top.Count} tops for {bottoms.Count} bottoms; it needs one top per bottom but the last (the selector).");
        var selector = bottoms[^1];
        if (selector.Rank == 0) throw Error("the selector (last bottom) must have a batch axis, got a scalar.");
        for (int i = 1; i < selector.Rank; i++)
            if (selector[i] != 1) throw Error($"the selector (last bottom) {selector} must have size 1 on every axis but the first.");
        for (int i = 0; i < bottoms.Count - 1; i++)
            if (bottoms[i].Rank == 0 || bottoms[i][0] != selector[0])
                throw Error($"bottom {i} {bottoms[i]} must have the selector's {selector[0]} items on its first axis.");
        return bottoms.Take(bottoms.Count - 1).ToArray();
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var selector = bottoms[^1].ToArray();
        var kept = Enumerable.Range(0, selector.Length).Where(i => selector[i] != 0).ToArray();
        return bottoms.Take(bottoms.Count - 1).Select(b => b.IndexSelect(0, kept)).ToArray();
    }
}

/// <summary>
/// Caffe's BatchReindex: top item i is bottom item permut[i], where permut (the second bottom, 1-D) holds indices in
/// [0, N) as floats, truncated as Caffe does. Items picked twice receive both gradients; permut gets none.
/// </summary>
public sealed class BatchReindexLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var x = bottoms[0];
        if (bottoms[1].Rank != 1) throw Error($"the index bottom must be 1-D, got {bottoms[1]}.");
        if (x.Rank == 0) throw Error("the data bottom must have a batch axis, got a scalar.");
        var dims = x.ToArray();
        dims[0] = bottoms[1][0];
        return [new Shape(dims)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var values = bottoms[1].ToArray();
        int n = bottoms[0].Shape[0];
        var indices = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (!(values[i] >= 0 && values[i] < n))
                throw Error($"index {values[i]} at position {i} is outside the batch [0, {n}).");
            indices[i] = (int)values[i];
        }
        return [bottoms[0].IndexSelect(0, indices)];
    }
}
