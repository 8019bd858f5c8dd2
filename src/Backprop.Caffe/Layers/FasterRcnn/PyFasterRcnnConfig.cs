namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's <c>cfg</c> (lib/fast_rcnn/config.py) as its end-to-end training runs it
/// (experiments/cfgs/faster_rcnn_end2end.yml: one image per batch, RPN on, precomputed target normalization,
/// background from IoU 0). Its Python layers read these values; set a changed copy on a net's layers with
/// <see cref="PyFasterRcnnLayers.Configure"/>, as py-faster-rcnn's <c>--cfg</c> and <c>--set</c> do.
/// </summary>
public sealed record PyFasterRcnnConfig
{
    /// <summary>The defaults of config.py with faster_rcnn_end2end.yml applied.</summary>
    public static PyFasterRcnnConfig Default { get; } = new();

    /// <summary>TRAIN.SCALES: shortest image side in pixels, one drawn per image.</summary>
    public IReadOnlyList<int> TrainScales { get; init; } = [600];

    /// <summary>TRAIN.MAX_SIZE: the longest side is scaled to at most this.</summary>
    public int TrainMaxSize { get; init; } = 1000;

    /// <summary>TRAIN.USE_FLIPPED: every image also appears mirrored left-right.</summary>
    public bool TrainUseFlipped { get; init; } = true;

    /// <summary>PIXEL_MEANS in BGR order, subtracted from 0..255 pixels.</summary>
    public IReadOnlyList<float> PixelMeans { get; init; } = [102.9801f, 115.9465f, 122.7717f];

    /// <summary>TRAIN.BATCH_SIZE: RoIs per image for the detection head.</summary>
    public int TrainBatchSize { get; init; } = 128;

    /// <summary>TRAIN.FG_FRACTION: at most this share of the RoIs are foreground.</summary>
    public float TrainFgFraction { get; init; } = 0.25f;

    /// <summary>TRAIN.FG_THRESH: IoU from which a RoI is foreground.</summary>
    public float TrainFgThresh { get; init; } = 0.5f;

    /// <summary>TRAIN.BG_THRESH_HI and BG_THRESH_LO: background RoIs have IoU in [lo, hi) (end2end: lo = 0).</summary>
    public float TrainBgThreshHi { get; init; } = 0.5f;

    /// <inheritdoc cref="TrainBgThreshHi"/>
    public float TrainBgThreshLo { get; init; } = 0f;

    /// <summary>TRAIN.BBOX_NORMALIZE_TARGETS_PRECOMPUTED: RoI targets become (t − means) / stds.</summary>
    public bool TrainBboxNormalizeTargetsPrecomputed { get; init; } = true;

    /// <summary>TRAIN.BBOX_NORMALIZE_MEANS.</summary>
    public IReadOnlyList<float> TrainBboxNormalizeMeans { get; init; } = [0f, 0f, 0f, 0f];

    /// <summary>TRAIN.BBOX_NORMALIZE_STDS.</summary>
    public IReadOnlyList<float> TrainBboxNormalizeStds { get; init; } = [0.1f, 0.1f, 0.2f, 0.2f];

    /// <summary>TRAIN.BBOX_INSIDE_WEIGHTS of a foreground RoI's four targets.</summary>
    public IReadOnlyList<float> TrainBboxInsideWeights { get; init; } = [1f, 1f, 1f, 1f];

    /// <summary>TRAIN.RPN_POSITIVE_OVERLAP: anchors with IoU ≥ this are positive.</summary>
    public float TrainRpnPositiveOverlap { get; init; } = 0.7f;

    /// <summary>TRAIN.RPN_NEGATIVE_OVERLAP: anchors with IoU below this are negative.</summary>
    public float TrainRpnNegativeOverlap { get; init; } = 0.3f;

    /// <summary>TRAIN.RPN_CLOBBER_POSITIVES: negatives are assigned after positives and may override them.</summary>
    public bool TrainRpnClobberPositives { get; init; }

    /// <summary>TRAIN.RPN_FG_FRACTION: at most this share of the sampled anchors are positive.</summary>
    public float TrainRpnFgFraction { get; init; } = 0.5f;

    /// <summary>TRAIN.RPN_BATCHSIZE: anchors sampled per image.</summary>
    public int TrainRpnBatchSize { get; init; } = 256;

    /// <summary>TRAIN.RPN_BBOX_INSIDE_WEIGHTS of a positive anchor's four targets.</summary>
    public IReadOnlyList<float> TrainRpnBboxInsideWeights { get; init; } = [1f, 1f, 1f, 1f];

    /// <summary>TRAIN.RPN_POSITIVE_WEIGHT: below 0, every sampled anchor weighs 1 / (sampled count).</summary>
    public float TrainRpnPositiveWeight { get; init; } = -1f;

    /// <summary>TRAIN.RPN_NMS_THRESH, RPN_PRE_NMS_TOP_N, RPN_POST_NMS_TOP_N, RPN_MIN_SIZE: proposals in TRAIN nets.</summary>
    public ProposalSettings TrainProposals { get; init; } = new(0.7f, 12000, 2000, 16);

    /// <summary>The same for TEST nets.</summary>
    public ProposalSettings TestProposals { get; init; } = new(0.7f, 6000, 300, 16);

    /// <summary>The image set of the VOC folder that RoIDataLayer reads (ImageSets/Main/{split}.txt).</summary>
    public string VocSplit { get; init; } = "trainval";
}

/// <summary>RPN proposal settings of one phase: NMS IoU threshold, boxes kept before and after NMS (0: all), minimum side at the original image scale.</summary>
public sealed record ProposalSettings(float NmsThresh, int PreNmsTopN, int PostNmsTopN, float MinSize);
