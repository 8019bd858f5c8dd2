namespace Backprop.Detection;

/// <summary>
/// What it takes to rebuild a <see cref="FasterRcnn"/> from <see cref="FasterRcnn.Create"/>: saved beside the weights
/// (see <see cref="DetectorFile"/>) so a model file is enough to detect.
/// </summary>
public sealed record FasterRcnnConfig
{
    /// <summary>"small" or "vgg16" (<see cref="Backbone.Create"/>).</summary>
    public string Backbone { get; init; } = "small";

    /// <summary>Object class names; label i is <c>Classes[i - 1]</c>, 0 is background.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Anchor sizes in pixels (square-root areas), each at aspect ratios 0.5, 1 and 2.</summary>
    public IReadOnlyList<float> AnchorSizes { get; init; } = [128f, 256f, 512f];

    /// <summary>Units of fc6 and fc7 (VGG16's head has 4096; 256 keeps the second stage cheap on a CPU).</summary>
    public int RepresentationSize { get; init; } = 256;

    /// <summary>Proposals sampled per image for the second stage's losses (py-faster-rcnn's 128; torchvision's 512).</summary>
    public int RoiSamplesPerImage { get; init; } = 128;

    public RoiPoolerKind Pooler { get; init; } = RoiPoolerKind.Align;

    /// <summary>Images are scaled so their longer side has this many pixels before they reach the network (0: as they are).</summary>
    public int ImageSize { get; init; } = 224;
}
