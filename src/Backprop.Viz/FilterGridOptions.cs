using SkiaSharp;

namespace Backprop.Viz;

/// <summary>How values map to gray levels: each filter (or feature map) to its own range, or all of them to one range.</summary>
public enum ValueRange
{
    /// <summary>Each filter's (or map's) own min maps to 0 and its max to 255: shows the pattern of every filter.</summary>
    PerFilter,

    /// <summary>The min and max over the whole tensor map to 0 and 255: shows which filters are strong.</summary>
    Shared,
}

/// <summary>Options of <see cref="FilterGrid"/> and <see cref="FeatureMaps"/>.</summary>
public sealed record FilterGridOptions
{
    /// <summary>Integer upscaling factor, nearest-neighbour: every weight becomes a Scale × Scale block. Default 8.</summary>
    public int Scale { get; init; } = 8;

    /// <summary>Per-filter or shared normalisation. Default per filter.</summary>
    public ValueRange Range { get; init; } = ValueRange.PerFilter;

    /// <summary>Draw 3-channel filters as colour tiles (default). When false they are drawn as 3 grayscale tiles.</summary>
    public bool Color { get; init; } = true;

    /// <summary>
    /// The channel order of 3-channel weights: true (default) for BGR, as Caffe's weights are (its images come
    /// through OpenCV); false for RGB (PyTorch, Keras).
    /// </summary>
    public bool Bgr { get; init; } = true;

    /// <summary>
    /// Tiles per row when each filter is one tile (1 input channel, or colour): default the ceiling of √K,
    /// a near-square grid. Filters with several gray channels are always K rows × C columns.
    /// </summary>
    public int? Columns { get; init; }

    /// <summary>The colour of the 1-pixel separators between tiles. Default white, as Caffe's notebooks pad.</summary>
    public SKColor Separator { get; init; } = SKColors.White;
}
