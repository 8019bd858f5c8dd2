namespace Backprop.Detection;

/// <summary>
/// The region proposal network's settings. Defaults are the Faster R-CNN paper's and torchvision's: anchors with
/// IoU ≥ 0.7 to a ground-truth box are positive, &lt; 0.3 negative; 256 anchors sampled per image with at most half
/// positive; proposals are the top-scoring boxes before and after NMS at 0.7.
/// </summary>
public sealed record RpnOptions
{
    public float PositiveIou { get; init; } = 0.7f;
    public float NegativeIou { get; init; } = 0.3f;
    public int BatchSizePerImage { get; init; } = 256;
    public float PositiveFraction { get; init; } = 0.5f;
    public int PreNmsTopNTrain { get; init; } = 2000;
    public int PostNmsTopNTrain { get; init; } = 2000;
    public int PreNmsTopNTest { get; init; } = 1000;
    public int PostNmsTopNTest { get; init; } = 1000;
    public float NmsThreshold { get; init; } = 0.7f;

    /// <summary>Proposals narrower or shorter than this many pixels are dropped.</summary>
    public float MinSize { get; init; } = 1e-3f;

    /// <summary>Smooth-L1 beta of the box loss (1/9: py-faster-rcnn's sigma 3).</summary>
    public float BoxLossBeta { get; init; } = 1f / 9;
}
