using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// The region proposal network (Ren et al., Faster R-CNN): an <see cref="RpnHead"/> scores k anchors at every feature
/// position and regresses each toward an object. Training labels every anchor against the ground truth with a
/// <see cref="Matcher"/> (IoU ≥ 0.7 object, &lt; 0.3 background, each box's best anchors object), samples 256 per image
/// with at most half objects (<see cref="BalancedPositiveNegativeSampler"/>), and adds the cross-entropy of the sampled
/// anchors' object/background scores to the smooth-L1 of the positive anchors' deltas (divided by the number sampled).
/// Proposals are the decoded boxes of the best-scoring anchors, clipped to the image, after NMS. As in torchvision, anchors
/// crossing the image border are kept in training (the paper and py-faster-rcnn leave them out).
/// </summary>
public sealed class RegionProposalNetwork : Module
{
    private readonly BoxCoder coder = new((1f, 1f, 1f, 1f));

    public RegionProposalNetwork(RpnHead head, AnchorGenerator anchorGenerator, int featureStride, RpnOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(anchorGenerator);
        if (anchorGenerator.AnchorsPerLocation != head.AnchorsPerLocation)
            throw new ArgumentException($"The anchor generator makes {anchorGenerator.AnchorsPerLocation} anchors per position but the RPN head predicts {head.AnchorsPerLocation}.");
        if (featureStride < 1) throw new ArgumentException($"The feature stride must be positive, got {featureStride}.");
        Head = RegisterModule("head", head);
        AnchorGenerator = anchorGenerator;
        FeatureStride = featureStride;
        Options = options ?? new RpnOptions();
        Matcher = new Matcher(Options.PositiveIou, Options.NegativeIou, allowLowQualityMatches: true);
        Sampler = new BalancedPositiveNegativeSampler(Options.BatchSizePerImage, Options.PositiveFraction);
    }

    public RpnHead Head { get; }
    public AnchorGenerator AnchorGenerator { get; }
    public int FeatureStride { get; }
    public RpnOptions Options { get; }
    public Matcher Matcher { get; }
    public BalancedPositiveNegativeSampler Sampler { get; }

    /// <summary>The head's outputs joined on the channel axis; <see cref="Propose"/> is the whole network.</summary>
    public override Tensor Forward(Tensor input) => Head.Forward(input);

    /// <summary>
    /// Proposals for a batch of feature maps (N, C, H, W) of images of the given sizes (before padding); with
    /// <paramref name="targets"/> also the losses, sampling anchors with <paramref name="generator"/>.
    /// </summary>
    public RpnOutput Propose(Tensor features, IReadOnlyList<(int Height, int Width)> imageSizes,
        IReadOnlyList<DetectionTarget>? targets = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(imageSizes);
        if (features.Rank != 4) throw new ArgumentException($"The RPN expects features of shape (N, C, H, W), got {features.Shape}.");
        int n = features.Shape[0], fh = features.Shape[2], fw = features.Shape[3], k = Head.AnchorsPerLocation;
        if (imageSizes.Count != n) throw new ArgumentException($"The RPN got {n} feature maps but {imageSizes.Count} image sizes.");
        if (targets is not null && targets.Count != n) throw new ArgumentException($"The RPN got {n} feature maps but {targets.Count} targets.");

        var anchors = AnchorGenerator.GridAnchors(fh, fw, FeatureStride, FeatureStride);
        int perImage = fh * fw * k;
        var (scores, deltas) = Head.Predict(features);
        // (N, 2k, H, W) -> (N·H·W·k, 2) and (N, 4k, H, W) -> (N·H·W·k, 4): rows in the anchors' (y, x, type) order.
        var logits = scores.Reshape(n, 2, k, fh, fw).Permute(0, 3, 4, 2, 1).Reshape(n * perImage, 2);
        var boxDeltas = deltas.Reshape(n, k, 4, fh, fw).Permute(0, 3, 4, 1, 2).Reshape(n * perImage, 4);

        var proposals = new List<Tensor>(n);
        var proposalScores = new List<float[]>(n);
        // Proposal counts follow the mode (train or eval), as torchvision's; losses come with targets.
        using (Autograd.Autograd.NoGrad())
        {
            float[] l = logits.ToArray();
            for (int i = 0; i < n; i++)
            {
                var objectness = new float[perImage];
                for (int a = 0; a < perImage; a++)
                {
                    int row = i * perImage + a;
                    objectness[a] = 1f / (1f + MathF.Exp(l[2 * row] - l[2 * row + 1]));   // softmax's object probability
                }
                var (boxes, kept) = ProposalsOf(objectness, boxDeltas.Slice(i * perImage, (i + 1) * perImage).Detach(), anchors,
                    imageSizes[i], IsTraining ? Options.PreNmsTopNTrain : Options.PreNmsTopNTest, IsTraining ? Options.PostNmsTopNTrain : Options.PostNmsTopNTest);
                proposals.Add(boxes);
                proposalScores.Add(kept);
            }
        }
        if (targets is null) return new RpnOutput(proposals, proposalScores, null, null, null, anchors);

        generator ??= Generator.Default;
        var samples = new List<RpnSample>(n);
        var sampledRows = new List<int>();
        var sampledLabels = new List<int>();
        var positiveRows = new List<int>();
        var regressionTargets = new List<Tensor>();
        for (int i = 0; i < n; i++)
        {
            var (labels, matches, truth) = BoxLabeling.Label(anchors, targets![i], imageSizes[i], Matcher);
            var (positive, negative) = Sampler.Sample(labels, generator);
            samples.Add(new RpnSample(positive, negative));
            foreach (int a in positive) { sampledRows.Add(i * perImage + a); sampledLabels.Add(1); positiveRows.Add(i * perImage + a); }
            foreach (int a in negative) { sampledRows.Add(i * perImage + a); sampledLabels.Add(0); }
            if (positive.Length > 0)
                regressionTargets.Add(coder.Encode(truth.Boxes.IndexSelect(0, positive.Select(a => matches[a]).ToArray()), anchors.IndexSelect(0, positive)));
        }

        int sampled = Math.Max(sampledRows.Count, 1);
        var objectnessLoss = sampledRows.Count == 0 ? Tensor.Scalar(0f)
            : Functional.CrossEntropy(logits.IndexSelect(0, sampledRows.ToArray()), sampledLabels.ToArray());
        var boxLoss = positiveRows.Count == 0 ? Tensor.Scalar(0f)
            : Functional.SmoothL1Loss(boxDeltas.IndexSelect(0, positiveRows.ToArray()), Tensor.Concat(regressionTargets, 0),
                Options.BoxLossBeta, LossReduction.Sum) / sampled;
        return new RpnOutput(proposals, proposalScores, objectnessLoss, boxLoss, samples, anchors);
    }

    /// <summary>The top-scoring anchors of one image decoded into boxes, clipped, small ones dropped, then NMS.</summary>
    private (Tensor Boxes, float[] Scores) ProposalsOf(float[] objectness, Tensor deltas, Tensor anchors, (int Height, int Width) size,
        int preNmsTopN, int postNmsTopN)
    {
        int[] order = TopK(objectness, preNmsTopN);
        var boxes = coder.Decode(deltas.IndexSelect(0, order), anchors.IndexSelect(0, order));
        boxes = Functional.ClipBoxesToImage(boxes, size.Height, size.Width);
        int[] big = Functional.RemoveSmallBoxes(boxes, Options.MinSize);
        boxes = boxes.IndexSelect(0, big);
        var scores = Tensor.FromArray(big.Select(j => objectness[order[j]]).ToArray(), big.Length);
        int[] keep = Functional.Nms(boxes, scores, Options.NmsThreshold);
        if (keep.Length > postNmsTopN) keep = keep[..postNmsTopN];
        var s = scores.ToArray();
        return (boxes.IndexSelect(0, keep), keep.Select(j => s[j]).ToArray());
    }

    /// <summary>Indices of the <paramref name="count"/> largest values, largest first (NaN last, ties by index).</summary>
    internal static int[] TopK(float[] values, int count)
    {
        var order = Enumerable.Range(0, values.Length).ToArray();
        var keys = values.Select(v => float.IsNaN(v) ? float.PositiveInfinity : -v).ToArray();
        Array.Sort(keys, order);
        // Array.Sort is not stable: restore index order among equal keys so results do not depend on the sort.
        for (int start = 0; start < order.Length;)
        {
            int end = start + 1;
            while (end < order.Length && keys[end] == keys[start]) end++;
            if (end - start > 1) Array.Sort(order, start, end - start);
            start = end;
        }
        return order.Length > count ? order[..count] : order;
    }
}
