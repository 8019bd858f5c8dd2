namespace Backprop.Detection;

/// <summary>How the second stage pools a region of the feature map.</summary>
public enum RoiPoolerKind
{
    /// <summary>torchvision's RoIAlign (bilinear samples, 2 per bin side).</summary>
    Align,

    /// <summary>Caffe's and py-faster-rcnn's ROIPooling (rounded coordinates, max per bin).</summary>
    Pool,
}

/// <summary>
/// The second stage's settings. Defaults are torchvision's but for the sample size: 128 proposals sampled per image
/// (py-faster-rcnn's number; torchvision samples 512), a quarter of them foreground (IoU ≥ 0.5 with a ground-truth box),
/// the rest background (IoU &lt; 0.5); 7x7 RoIAlign; box deltas coded with weights (10, 10, 5, 5); at inference boxes
/// scoring above 0.05 kept, per-class NMS at 0.5, at most 100 per image. py-faster-rcnn differs further: RoI pooling,
/// background IoU in [0.1, 0.5), smooth-L1 beta 1 for the head, test NMS 0.3.
/// </summary>
public sealed record RoiHeadsOptions
{
    public float ForegroundIou { get; init; } = 0.5f;
    public float BackgroundIou { get; init; } = 0.5f;
    public int BatchSizePerImage { get; init; } = 128;
    public float PositiveFraction { get; init; } = 0.25f;
    public RoiPoolerKind Pooler { get; init; } = RoiPoolerKind.Align;
    public int PooledSize { get; init; } = 7;
    public int SamplingRatio { get; init; } = 2;
    public float ScoreThreshold { get; init; } = 0.05f;
    public float NmsThreshold { get; init; } = 0.5f;
    public int DetectionsPerImage { get; init; } = 100;
    public (float X, float Y, float Width, float Height) BoxCoderWeights { get; init; } = (10f, 10f, 5f, 5f);

    /// <summary>Smooth-L1 beta of the box loss (torchvision's 1/9).</summary>
    public float BoxLossBeta { get; init; } = 1f / 9;
}
