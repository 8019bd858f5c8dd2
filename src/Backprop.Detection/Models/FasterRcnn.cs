using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// Faster R-CNN (Ren et al. 2015): a backbone's feature map feeds a <see cref="RegionProposalNetwork"/>, whose proposals
/// feed the <see cref="RoiHeads"/> — one network trained end to end on the sum of four losses. Images are RGB in [0, 1],
/// (N, 3, H, W), zero-padded to a common size with each image's own size given; the model normalizes them with
/// <see cref="Mean"/> and <see cref="Std"/>. As torchvision's FasterRCNN, <see cref="Forward(Tensor, IReadOnlyList{ValueTuple{int, int}}, IReadOnlyList{DetectionTarget}?)"/>
/// returns the losses in training mode and the detections in eval mode.
/// </summary>
public sealed class FasterRcnn : Module
{
    private readonly Generator sampling;

    public FasterRcnn(Backbone backbone, RegionProposalNetwork rpn, RoiHeads roiHeads, ulong samplingSeed = 0)
    {
        Backbone = RegisterModule("backbone", backbone ?? throw new ArgumentNullException(nameof(backbone)));
        Rpn = RegisterModule("rpn", rpn ?? throw new ArgumentNullException(nameof(rpn)));
        RoiHeads = RegisterModule("roi_heads", roiHeads ?? throw new ArgumentNullException(nameof(roiHeads)));
        if (rpn.FeatureStride != backbone.FeatureStride || roiHeads.FeatureStride != backbone.FeatureStride)
            throw new ArgumentException($"The backbone's feature stride {backbone.FeatureStride} must be the RPN's ({rpn.FeatureStride}) and the RoI heads' ({roiHeads.FeatureStride}).");
        sampling = new Generator(samplingSeed);
    }

    /// <summary>
    /// A Faster R-CNN as <paramref name="config"/> describes it: its backbone, k = 3 · sizes anchors per position (its
    /// sizes at ratios 0.5, 1 and 2), an RPN head as wide as the backbone's features, fc6/fc7 of its representation
    /// size, its RPN and RoI head settings. Weights and proposal sampling come from <paramref name="seed"/>.
    /// </summary>
    public static FasterRcnn Create(FasterRcnnConfig config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var g = new Generator(seed);
        var backbone = Backbone.Create(config.Backbone, g);
        var anchors = new AnchorGenerator(config.AnchorSizes, [0.5f, 1f, 2f]);
        var rpn = new RegionProposalNetwork(new RpnHead(backbone.OutChannels, anchors.AnchorsPerLocation, backbone.OutChannels, g),
            anchors, backbone.FeatureStride, config.Rpn);
        var heads = new RoiHeads(backbone.OutChannels, backbone.FeatureStride, config.Classes.Count, config.RepresentationSize, config.RoiHeads, g);
        return new FasterRcnn(backbone, rpn, heads, seed + 1) { Config = config };
    }

    /// <summary>How <see cref="Create"/> built this model; null for a model assembled by hand.</summary>
    public FasterRcnnConfig? Config { get; private init; }

    public Backbone Backbone { get; }
    public RegionProposalNetwork Rpn { get; }
    public RoiHeads RoiHeads { get; }

    /// <summary>Per-channel mean subtracted from RGB images in [0, 1] (ImageNet's, as torchvision).</summary>
    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];

    /// <summary>Per-channel standard deviation the images are divided by.</summary>
    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];

    /// <summary>The RPN output of the last <see cref="Forward(Tensor, IReadOnlyList{ValueTuple{int, int}}, IReadOnlyList{DetectionTarget}?)"/> (proposals, sampled anchors).</summary>
    public RpnOutput? LastRpnOutput { get; private set; }

    /// <summary>A Faster R-CNN maps images to detections or losses, not one tensor to another: use the other overloads.</summary>
    public override Tensor Forward(Tensor input) =>
        throw new InvalidOperationException("FasterRcnn takes images with their sizes: call Forward(images, imageSizes, targets) for losses, or Detect(images, imageSizes).");

    /// <summary>
    /// Training mode: the four losses for the images against <paramref name="targets"/>. Eval mode: detections per image
    /// (targets are not needed and are ignored), returned in <see cref="FasterRcnnOutput.Detections"/>.
    /// </summary>
    public FasterRcnnOutput Forward(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes, IReadOnlyList<DetectionTarget>? targets = null)
    {
        CheckImages(images, imageSizes);
        if (!IsTraining) return new FasterRcnnOutput(null, Detect(images, imageSizes));
        if (targets is null) throw new ArgumentException("FasterRcnn in training mode needs targets; call Eval() first to detect.");
        if (targets.Count != images.Shape[0]) throw new ArgumentException($"FasterRcnn got {images.Shape[0]} images but {targets.Count} targets.");
        var features = Backbone.Forward(Normalize(images, imageSizes));
        var rpn = Rpn.Propose(features, imageSizes, targets, sampling);
        LastRpnOutput = rpn;
        // The second stage learns from the proposals as constants (torchvision and py-faster-rcnn's approximate joint training).
        var (classLoss, boxLoss) = RoiHeads.Losses(features, rpn.Proposals, imageSizes, targets, sampling);
        return new FasterRcnnOutput(new FasterRcnnLosses(rpn.ObjectnessLoss!, rpn.BoxLoss!, classLoss, boxLoss), null);
    }

    /// <summary>Detections per image, without gradients, in whichever mode the model is (call Eval() for batch norm's running statistics).</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        CheckImages(images, imageSizes);
        using var _ = Autograd.Autograd.NoGrad();
        var features = Backbone.Forward(Normalize(images, imageSizes));
        var rpn = Rpn.Propose(features, imageSizes);
        LastRpnOutput = rpn;
        return RoiHeads.Detect(features, rpn.Proposals, imageSizes);
    }

    /// <summary>
    /// The first stage alone: backbone and region proposal network. With <paramref name="targets"/> (training) the
    /// result holds the RPN's two losses and the anchors it sampled; without, just the proposals.
    /// </summary>
    public RpnOutput ProposeRegions(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes, IReadOnlyList<DetectionTarget>? targets = null)
    {
        CheckImages(images, imageSizes);
        if (targets is null)
        {
            using var _ = Autograd.Autograd.NoGrad();
            return LastRpnOutput = Rpn.Propose(Backbone.Forward(Normalize(images, imageSizes)), imageSizes);
        }
        return LastRpnOutput = Rpn.Propose(Backbone.Forward(Normalize(images, imageSizes)), imageSizes, targets, sampling);
    }

    /// <summary>
    /// (image − mean) / std, with the padding of smaller images of the batch left at 0 — the mean colour, as
    /// torchvision pads after normalizing — so an image's result does not depend on the batch it came in.
    /// </summary>
    internal Tensor Normalize(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var mean = Tensor.FromArray(Mean, 1, 3, 1, 1);
        var scale = Tensor.FromArray(Std.Select(s => 1f / s).ToArray(), 1, 3, 1, 1);
        var normalized = (images - mean) * scale;
        int n = images.Shape[0], height = images.Shape[2], width = images.Shape[3];
        if (imageSizes.All(s => s.Height == height && s.Width == width)) return normalized;
        var mask = new float[n * height * width];   // mask: (N, 1, H, W), 1 inside each image
        for (int i = 0; i < n; i++)
            for (int y = 0; y < imageSizes[i].Height; y++)
                mask.AsSpan((i * height + y) * width, imageSizes[i].Width).Fill(1f);
        return normalized * Tensor.FromArray(mask, n, 1, height, width);
    }

    private static void CheckImages(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(imageSizes);
        if (images.Rank != 4 || images.Shape[1] != 3)
            throw new ArgumentException($"FasterRcnn expects RGB images of shape (N, 3, H, W), got {images.Shape}.");
        if (imageSizes.Count != images.Shape[0])
            throw new ArgumentException($"FasterRcnn got {images.Shape[0]} images but {imageSizes.Count} image sizes.");
        for (int i = 0; i < imageSizes.Count; i++)
            if (imageSizes[i].Height < 1 || imageSizes[i].Width < 1 || imageSizes[i].Height > images.Shape[2] || imageSizes[i].Width > images.Shape[3])
                throw new ArgumentException($"Image {i}'s size {imageSizes[i]} does not fit the batch of shape {images.Shape}.");
    }
}

/// <summary>What <see cref="FasterRcnn.Forward(Tensor, IReadOnlyList{ValueTuple{int, int}}, IReadOnlyList{DetectionTarget}?)"/> gives: losses in training, detections in eval.</summary>
public sealed record FasterRcnnOutput(FasterRcnnLosses? Losses, IReadOnlyList<Detections>? Detections);
