using System.Globalization;

namespace Backprop.Detection;

/// <summary>
/// Everything <see cref="FasterRcnn.Create"/> needs to build a model: saved beside the weights (see
/// <see cref="DetectorFile"/>), so a model file alone rebuilds the same detector, thresholds included.
/// </summary>
public sealed record FasterRcnnConfig
{
    /// <summary>"small" or "vgg16" (<see cref="Backbone.Create"/>).</summary>
    public string Backbone { get; init; } = "small";

    /// <summary>Object class names; label i is <c>Classes[i - 1]</c>, 0 is background.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Anchor sizes in pixels (square-root areas), each at aspect ratios 0.5, 1 and 2: k = 3 · sizes.
    /// The default suits 224-pixel images (the paper's 128, 256, 512 suit 600-pixel ones).</summary>
    public IReadOnlyList<float> AnchorSizes { get; init; } = [32f, 64f, 128f];

    /// <summary>Units of fc6 and fc7 (VGG16's head has 4096; 256 keeps the second stage cheap on a CPU).</summary>
    public int RepresentationSize { get; init; } = 256;

    /// <summary>Images are scaled so their longer side has this many pixels before they reach the network (0: as they are).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>The region proposal network's thresholds and counts.</summary>
    public RpnOptions Rpn { get; init; } = new();

    /// <summary>The second stage's sampling, pooling and inference settings.</summary>
    public RoiHeadsOptions RoiHeads { get; init; } = new();

    /// <summary>Largest sizes a configuration may ask for (a model file's configuration is read from outside).</summary>
    public const int MaxClasses = 100_000, MaxRepresentationSize = 16_384, MaxImageSize = 8192, MaxAnchorSizes = 16;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Backbone is not ("small" or "vgg16")) throw new ArgumentException($"Unknown backbone '{Backbone}': use 'small' or 'vgg16'.");
        if (Classes is null || Classes.Count is 0 or > MaxClasses)
            throw new ArgumentException($"A Faster R-CNN needs 1 to {MaxClasses} object classes, got {Classes?.Count.ToString(CultureInfo.InvariantCulture) ?? "none"}.");
        if (Classes.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Class names must not be empty.");
        if (AnchorSizes is null || AnchorSizes.Count is 0 or > MaxAnchorSizes || AnchorSizes.Any(s => !(s > 0 && s < 1e5f)))
            throw new ArgumentException($"Anchor sizes must be 1 to {MaxAnchorSizes} positive numbers of pixels below 100000.");
        if (RepresentationSize is < 1 or > MaxRepresentationSize)
            throw new ArgumentException($"The representation size must be 1 to {MaxRepresentationSize}, got {RepresentationSize}.");
        if (ImageSize is < 0 or > MaxImageSize) throw new ArgumentException($"The image size must be 0 to {MaxImageSize}, got {ImageSize}.");
        if (Rpn is null || RoiHeads is null) throw new ArgumentException("The RPN and RoI head settings must be present.");
        if (Rpn.BatchSizePerImage < 1 || RoiHeads.BatchSizePerImage < 1 || Rpn.PreNmsTopNTrain < 1 || Rpn.PreNmsTopNTest < 1
            || Rpn.PostNmsTopNTrain < 1 || Rpn.PostNmsTopNTest < 1 || RoiHeads.PooledSize is < 1 or > 64 || RoiHeads.DetectionsPerImage < 1)
            throw new ArgumentException("The RPN and RoI head counts (samples, top-n, pooled size, detections) must be positive.");
    }
}
