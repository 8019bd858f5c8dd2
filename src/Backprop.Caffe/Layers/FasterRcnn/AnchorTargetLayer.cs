using Backprop.Caffe.Proto;
using Backprop.Detection;

namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's <c>rpn.anchor_target_layer.AnchorTargetLayer</c>. Bottoms: rpn_cls_score (1, ·, H, W) (for its
/// size), gt_boxes (G, 5), im_info (1, 3) and optionally data (unused). Tops: rpn_labels (1, 1, A·H, W) with 1 positive,
/// 0 negative, −1 ignored; rpn_bbox_targets, rpn_bbox_inside_weights, rpn_bbox_outside_weights (1, 4A, H, W).
/// </summary>
/// <remarks>
/// The A anchors of each cell (param_str 'scales', ratios 0.5, 1, 2) are shifted by 'feat_stride'; only anchors wholly
/// inside the image (within 'allowed_border', default 0) get labels. An anchor is negative below RPN_NEGATIVE_OVERLAP,
/// positive from RPN_POSITIVE_OVERLAP, and positive where it reaches a ground-truth box's highest IoU — like the
/// original, also where that highest IoU is 0. At most RPN_FG_FRACTION · RPN_BATCHSIZE positives are kept and
/// negatives fill the batch, drawn without replacement (<see cref="BalancedPositiveNegativeSampler"/>). Targets are
/// bbox_transform from each anchor to its best box, unnormalized; inside weights RPN_BBOX_INSIDE_WEIGHTS on positives;
/// outside weights 1 / (sampled count) on sampled anchors (RPN_POSITIVE_WEIGHT &lt; 0).
/// </remarks>
public sealed class AnchorTargetLayer : PyFasterRcnnLayer
{
    private Tensor baseAnchors = null!;
    private int stride, allowedBorder;

    internal AnchorTargetLayer(LayerParameter definition) : base(definition) { }

    public override (int Min, int Max) Bottoms => (3, 4);
    public override (int Min, int Max) Tops => (4, 4);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = ReadParams();
        (baseAnchors, stride) = Anchors(p);
        allowedBorder = p.Int("allowed_border", 0);
        if (bottoms[0].Rank != 4) throw Error($"rpn_cls_score must be (1, C, H, W), got {bottoms[0]}.");
        int a = baseAnchors.Shape[0], h = bottoms[0][2], w = bottoms[0][3];
        return [new Shape(1, 1, a * h, w), new Shape(1, 4 * a, h, w), new Shape(1, 4 * a, h, w), new Shape(1, 4 * a, h, w)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        RequireOneImage(bottoms[0].Shape, "rpn_cls_score");
        if (bottoms[0].Rank != 4) throw Error($"rpn_cls_score must be (1, C, H, W), got {bottoms[0].Shape}.");
        int height = bottoms[0].Shape[2], width = bottoms[0].Shape[3], a = baseAnchors.Shape[0];
        int g = GroundTruthCount(bottoms[1]);
        var (imHeight, imWidth, _) = ImageInfo(bottoms[2]);
        var cfg = Config;

        var all = PyFasterRcnnAnchors.Shift(baseAnchors, height, width, stride).AsSpan();   // (K·A, 4), row (y·W + x)·A + a
        int total = height * width * a;
        var inside = new List<int>();
        for (int i = 0; i < total; i++)
            if (all[4 * i] >= -allowedBorder && all[4 * i + 1] >= -allowedBorder
                && all[4 * i + 2] < imWidth + allowedBorder && all[4 * i + 3] < imHeight + allowedBorder)
                inside.Add(i);
        int n = inside.Count;
        var anchors = new float[n * 4];
        for (int j = 0; j < n; j++) all.Slice(4 * inside[j], 4).CopyTo(anchors.AsSpan(4 * j));

        var gt = bottoms[1].AsSpan();
        var anchorBoxes = PyFasterRcnnBoxes.Continuous(anchors, n);
        var gtBoxes = PyFasterRcnnBoxes.Continuous(gt, g, stride: 5);
        var iou = PyFasterRcnnBoxes.Overlaps(anchorBoxes, gtBoxes).AsSpan();   // (n, G)

        var argmax = new int[n];
        var maxOverlap = new float[n];
        var gtMax = new float[g];
        for (int j = 0; j < n; j++)
            for (int k = 0; k < g; k++)
            {
                float v = iou[j * g + k];
                if (k == 0 || v > maxOverlap[j]) { maxOverlap[j] = v; argmax[j] = k; }
                if (j == 0 || v > gtMax[k]) gtMax[k] = v;
            }

        var labels = new int[n];
        Array.Fill(labels, -1);
        if (!cfg.TrainRpnClobberPositives)
            for (int j = 0; j < n; j++) if (maxOverlap[j] < cfg.TrainRpnNegativeOverlap) labels[j] = 0;
        for (int j = 0; j < n; j++)
        {
            // Positive where the anchor ties some ground truth's best IoU (np.where(overlaps == gt_max_overlaps)).
            for (int k = 0; k < g; k++) if (iou[j * g + k] == gtMax[k]) { labels[j] = 1; break; }
            if (maxOverlap[j] >= cfg.TrainRpnPositiveOverlap) labels[j] = 1;
        }
        if (cfg.TrainRpnClobberPositives)
            for (int j = 0; j < n; j++) if (maxOverlap[j] < cfg.TrainRpnNegativeOverlap) labels[j] = 0;

        var sampler = new BalancedPositiveNegativeSampler(cfg.TrainRpnBatchSize, cfg.TrainRpnFgFraction);
        var (positive, negative) = sampler.Sample(labels, context.RandomFor(layerIndex));
        Array.Fill(labels, -1);
        foreach (int j in positive) labels[j] = 1;
        foreach (int j in negative) labels[j] = 0;

        var matched = new float[n * 4];
        for (int j = 0; j < n; j++)
            for (int c = 0; c < 4; c++) matched[4 * j + c] = gt[5 * argmax[j] + c];
        var targets = n == 0 ? [] : PyFasterRcnnBoxes.Transform(anchorBoxes, PyFasterRcnnBoxes.Continuous(matched, n));

        int sampled = positive.Length + negative.Length;
        float positiveWeight, negativeWeight;
        if (cfg.TrainRpnPositiveWeight < 0) positiveWeight = negativeWeight = 1f / Math.Max(1, sampled);
        else
        {
            positiveWeight = cfg.TrainRpnPositiveWeight / Math.Max(1, positive.Length);
            negativeWeight = (1f - cfg.TrainRpnPositiveWeight) / Math.Max(1, negative.Length);
        }

        // Tops in Caffe's layout: (1, A, H, W) for labels and (1, 4A, H, W) for the rest; anchors outside get −1 and zeros.
        int plane = height * width;
        var labelTop = new float[total];
        Array.Fill(labelTop, -1f);
        var targetTop = new float[4 * total];
        var insideTop = new float[4 * total];
        var outsideTop = new float[4 * total];
        for (int j = 0; j < n; j++)
        {
            int index = inside[j], cell = index / a, anchor = index % a;
            labelTop[anchor * plane + cell] = labels[j];
            for (int c = 0; c < 4; c++)
            {
                int o = (anchor * 4 + c) * plane + cell;
                targetTop[o] = targets[4 * j + c];
                insideTop[o] = labels[j] == 1 ? cfg.TrainRpnBboxInsideWeights[c] : 0f;
                outsideTop[o] = labels[j] == 1 ? positiveWeight : labels[j] == 0 ? negativeWeight : 0f;
            }
        }
        return [Tensor.FromArray(labelTop, 1, 1, a * height, width), Tensor.FromArray(targetTop, 1, 4 * a, height, width),
            Tensor.FromArray(insideTop, 1, 4 * a, height, width), Tensor.FromArray(outsideTop, 1, 4 * a, height, width)];
    }
}
