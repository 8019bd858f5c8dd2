using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// caffe-fast-rcnn's ROIPooling: bottoms (features (N, C, H, W), rois (R, 5) rows [image, x1, y1, x2, y2] in image
/// pixels); top (R, C, pooled_h, pooled_w), each bin the maximum of its cells. The fork's rounding: corners are
/// round(x · spatial_scale) (halves away from zero, C's round), the RoI is max(x2 − x1 + 1, 1) cells wide, bin ph covers
/// rows [floor(ph · h / pooled_h), ceil((ph + 1) · h / pooled_h)) clipped to the map, an empty bin gives 0.
/// <see cref="Functional.RoiPool"/> computes exactly this; the gradient goes to each bin's maximum, none to the RoIs.
/// </summary>
public sealed class RoiPoolingLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int pooledHeight, pooledWidth;
    private float spatialScale;

    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.RoiPoolingParam ?? throw Error("roi_pooling_param is missing; it needs pooled_h and pooled_w.");
        if (p.PooledH == 0 || p.PooledW == 0) throw Error($"pooled_h and pooled_w must be positive, got {p.PooledH} and {p.PooledW}.");
        if (p.PooledH > 4096 || p.PooledW > 4096) throw Error($"pooled_h {p.PooledH} or pooled_w {p.PooledW} is implausibly large (at most 4096).");
        if (!(p.SpatialScale > 0) || !float.IsFinite(p.SpatialScale)) throw Error($"spatial_scale must be positive and finite, got {p.SpatialScale}.");
        (pooledHeight, pooledWidth, spatialScale) = ((int)p.PooledH, (int)p.PooledW, p.SpatialScale);
        if (bottoms[0].Rank != 4) throw Error($"the features must be (N, C, H, W), got {bottoms[0]}.");
        int rois = RoiCount(bottoms[1]);
        return [new Shape(rois, bottoms[0][1], pooledHeight, pooledWidth)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var rois = bottoms[1].Detach();
        int count = RoiCount(rois.Shape);
        return [Functional.RoiPool(bottoms[0], rois.Reshape(count, 5), (pooledHeight, pooledWidth), spatialScale)];
    }

    // Caffe reads R rows of 5 values whatever the trailing axes ((R, 5) or (R, 5, 1, 1)).
    private int RoiCount(Shape rois)
    {
        if (rois.Rank < 1 || rois.Length != rois[0] * 5)
            throw Error($"the rois must hold 5 values per RoI ([image, x1, y1, x2, y2]), got {rois}.");
        return rois[0];
    }
}
