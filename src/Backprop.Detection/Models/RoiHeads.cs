using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// Faster R-CNN's second stage (Fast R-CNN's head): each proposal's region of the feature map is pooled to a fixed
/// PxP grid (RoIAlign or RoI pooling), passed through two fully connected layers (fc6, fc7, with ReLU), then scored over
/// the classes and background (cls_score) and given per-class box deltas (bbox_pred). Training samples proposals —
/// with the ground-truth boxes added — into foreground (labelled with the class of the box they match) and background,
/// and adds the classes' cross-entropy to the smooth-L1 of the foreground boxes' deltas for their own class (divided by
/// the number sampled). Inference keeps, per class, boxes above a score threshold after NMS.
/// </summary>
public sealed class RoiHeads : Module
{
    private readonly BoxCoder coder;

    /// <param name="inChannels">Channels of the feature map.</param>
    /// <param name="featureStride">Image pixels per feature pixel (RoIs are scaled by its inverse).</param>
    /// <param name="numClasses">Object classes, not counting the background (labels 1..numClasses).</param>
    /// <param name="representationSize">Width of fc6 and fc7 (4096 in VGG16's head).</param>
    public RoiHeads(int inChannels, int featureStride, int numClasses, int representationSize, RoiHeadsOptions? options = null, Generator? generator = null)
    {
        if (numClasses < 1) throw new ArgumentException($"RoiHeads needs at least one object class, got {numClasses}.");
        if (featureStride < 1) throw new ArgumentException($"The feature stride must be positive, got {featureStride}.");
        var g = generator ?? Generator.Default;
        Options = options ?? new RoiHeadsOptions();
        FeatureStride = featureStride;
        NumClasses = numClasses;
        int pooled = Options.PooledSize;
        Fc6 = RegisterModule("fc6", new Linear(inChannels * pooled * pooled, representationSize, generator: g));
        Fc7 = RegisterModule("fc7", new Linear(representationSize, representationSize, generator: g));
        ClassScores = RegisterModule("cls_score", new Linear(representationSize, numClasses + 1, generator: g));
        BoxDeltas = RegisterModule("bbox_pred", new Linear(representationSize, 4 * (numClasses + 1), generator: g));
        // py-faster-rcnn's fillers for the predictors: small Gaussians so the first losses are those of chance.
        Init.Gaussian(ClassScores.Weight, 0f, 0.01f, g);
        Init.Constant(ClassScores.Bias!, 0f);
        Init.Gaussian(BoxDeltas.Weight, 0f, 0.001f, g);
        Init.Constant(BoxDeltas.Bias!, 0f);
        coder = new BoxCoder(Options.BoxCoderWeights);
        Matcher = new Matcher(Options.ForegroundIou, Options.BackgroundIou, allowLowQualityMatches: false);
        Sampler = new BalancedPositiveNegativeSampler(Options.BatchSizePerImage, Options.PositiveFraction);
    }

    public RoiHeadsOptions Options { get; }
    public int FeatureStride { get; }
    public int NumClasses { get; }
    public Linear Fc6 { get; }
    public Linear Fc7 { get; }
    public Linear ClassScores { get; }
    public Linear BoxDeltas { get; }
    public Matcher Matcher { get; }
    public BalancedPositiveNegativeSampler Sampler { get; }

    /// <summary>Class logits (R, C + 1) and box deltas (R, 4(C + 1)) joined: (R, 5(C + 1)), for pooled regions (R, C, P, P).</summary>
    public override Tensor Forward(Tensor input)
    {
        var (scores, deltas) = Predict(input);
        return Tensor.Concat([scores, deltas], axis: 1);
    }

    /// <summary>Class logits (R, C + 1) and box deltas (R, 4(C + 1)) for pooled regions (R, channels, P, P).</summary>
    public (Tensor Scores, Tensor Deltas) Predict(Tensor pooled)
    {
        var x = pooled.Reshape(pooled.Shape[0], pooled.Length / Math.Max(pooled.Shape[0], 1));
        x = Functional.Relu(Fc6.Forward(x));
        x = Functional.Relu(Fc7.Forward(x));
        return (ClassScores.Forward(x), BoxDeltas.Forward(x));
    }

    /// <summary>Pools the regions (R, 5) = [image index, x1, y1, x2, y2] of the feature map.</summary>
    public Tensor Pool(Tensor features, Tensor rois)
    {
        var size = (Options.PooledSize, Options.PooledSize);
        float scale = 1f / FeatureStride;
        return Options.Pooler == RoiPoolerKind.Align
            ? Functional.RoiAlign(features, rois, size, scale, Options.SamplingRatio, aligned: false)
            : Functional.RoiPool(features, rois, size, scale);
    }

    /// <summary>The classification and box losses for proposals of a batch against its ground truth.</summary>
    public (Tensor ClassLoss, Tensor BoxLoss) Losses(Tensor features, IReadOnlyList<Tensor> proposals,
        IReadOnlyList<(int Height, int Width)> imageSizes, IReadOnlyList<DetectionTarget> targets, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(imageSizes);
        ArgumentNullException.ThrowIfNull(targets);
        if (imageSizes.Count != proposals.Count || targets.Count != proposals.Count)
            throw new ArgumentException($"RoiHeads got proposals for {proposals.Count} images, {imageSizes.Count} image sizes and {targets.Count} targets.");
        for (int i = 0; i < targets.Count; i++)
            foreach (int label in targets[i].Labels)
                if (label < 1 || label > NumClasses)
                    throw new ArgumentException($"Image {i} has a box labelled {label}: labels must be 1 to {NumClasses} (0 is the background).");
        var rois = new List<float>();
        var labels = new List<int>();
        var regressionTargets = new List<Tensor>();
        var foreground = new List<(int Row, int Label)>();
        for (int i = 0; i < proposals.Count; i++)
        {
            // The ground-truth boxes join the proposals, so every box has foreground candidates from the first step.
            var usable = TargetBoxes.Usable(targets[i], imageSizes[i]);
            var candidates = usable.Count == 0 ? proposals[i] : Tensor.Concat([proposals[i], usable.Boxes], 0);
            var (sampleLabels, matches, gt) = BoxLabeling.Label(candidates, usable, imageSizes[i], Matcher);
            var (positive, negative) = Sampler.Sample(sampleLabels, generator);
            var c = candidates.ToArray();
            foreach (int j in positive.Concat(negative))
            {
                int label = matches[j] >= 0 ? gt.Labels[matches[j]] : 0;
                if (label > 0) foreground.Add((labels.Count, label));
                labels.Add(label);
                rois.AddRange([i, c[4 * j], c[4 * j + 1], c[4 * j + 2], c[4 * j + 3]]);
            }
            if (positive.Length > 0)
                regressionTargets.Add(coder.Encode(gt.Boxes.IndexSelect(0, positive.Select(j => matches[j]).ToArray()), candidates.IndexSelect(0, positive)));
        }
        if (labels.Count == 0) return (Tensor.Scalar(0f), Tensor.Scalar(0f));

        int r = labels.Count;
        var (scores, deltas) = Predict(Pool(features, Tensor.FromArray([.. rois], r, 5)));
        var classLoss = Functional.CrossEntropy(scores, [.. labels]);
        if (foreground.Count == 0) return (classLoss, Tensor.Scalar(0f));
        // Each foreground RoI's deltas for its own class: row r·(C + 1) + label of the (R·(C + 1), 4) view.
        int columns = NumClasses + 1;
        var own = deltas.Reshape(r * columns, 4).IndexSelect(0, foreground.Select(f => f.Row * columns + f.Label).ToArray());
        var boxLoss = Functional.SmoothL1Loss(own, Tensor.Concat(regressionTargets, 0), Options.BoxLossBeta, LossReduction.Sum) / r;
        return (classLoss, boxLoss);
    }

    /// <summary>Detections per image: boxes above the score threshold, per-class NMS, the best few.</summary>
    public IReadOnlyList<Detections> Detect(Tensor features, IReadOnlyList<Tensor> proposals, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(imageSizes);
        if (imageSizes.Count != proposals.Count)
            throw new ArgumentException($"RoiHeads got proposals for {proposals.Count} images but {imageSizes.Count} image sizes.");
        var result = new List<Detections>(proposals.Count);
        using var _ = Autograd.Autograd.NoGrad();
        for (int i = 0; i < proposals.Count; i++)
        {
            int r = proposals[i].Shape[0];
            if (r == 0) { result.Add(new Detections(Tensor.Zeros(0, 4), [], [])); continue; }
            var rois = Tensor.Concat([Tensor.Full(i, r, 1), proposals[i]], 1);
            var (scores, deltas) = Predict(Pool(features, rois));
            float[] probability = Functional.Softmax(scores, 1).ToArray();
            var boxes = Functional.ClipBoxesToImage(coder.Decode(deltas, proposals[i]).Reshape(r * (NumClasses + 1), 4),
                imageSizes[i].Height, imageSizes[i].Width).ToArray();
            var kept = new List<int>();
            var keptScores = new List<float>();
            var keptLabels = new List<int>();
            for (int j = 0; j < r; j++)
                for (int c = 1; c <= NumClasses; c++)
                {
                    int row = j * (NumClasses + 1) + c;
                    float s = probability[row];
                    float w = boxes[4 * row + 2] - boxes[4 * row], h = boxes[4 * row + 3] - boxes[4 * row + 1];
                    if (s > Options.ScoreThreshold && w >= 1e-2f && h >= 1e-2f) { kept.Add(row); keptScores.Add(s); keptLabels.Add(c); }
                }
            var candidateBoxes = Tensor.FromArray(kept.SelectMany(row => boxes.AsSpan(4 * row, 4).ToArray()).ToArray(), kept.Count, 4);
            int[] keep = Functional.BatchedNms(candidateBoxes, Tensor.FromArray([.. keptScores], kept.Count), [.. keptLabels], Options.NmsThreshold);
            if (keep.Length > Options.DetectionsPerImage) keep = keep[..Options.DetectionsPerImage];
            result.Add(new Detections(candidateBoxes.IndexSelect(0, keep), keep.Select(k => keptScores[k]).ToArray(), keep.Select(k => keptLabels[k]).ToArray()));
        }
        return result;
    }
}
