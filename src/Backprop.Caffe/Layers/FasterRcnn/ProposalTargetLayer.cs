using Backprop.Caffe.Proto;
using Backprop.Detection;

namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's <c>rpn.proposal_target_layer.ProposalTargetLayer</c>. Bottoms: rpn_rois (R, 5), gt_boxes (G, 5).
/// Tops: rois (N, 5), labels (N), bbox_targets, bbox_inside_weights, bbox_outside_weights (N, 4·num_classes), where
/// num_classes comes from param_str (<c>'num_classes': 21</c>).
/// </summary>
/// <remarks>
/// The ground-truth boxes join the proposals. RoIs with IoU ≥ FG_THRESH to their best box are foreground (its class),
/// those in [BG_THRESH_LO, BG_THRESH_HI) background (0); at most FG_FRACTION · BATCH_SIZE foreground and then
/// background up to BATCH_SIZE are drawn without replacement, foreground first. Each foreground RoI gets bbox_transform
/// targets to its box, (t − BBOX_NORMALIZE_MEANS) / BBOX_NORMALIZE_STDS, in its class's four columns, with inside
/// weights BBOX_INSIDE_WEIGHTS; outside weights are 1 where inside weights are positive.
/// </remarks>
public sealed class ProposalTargetLayer : PyFasterRcnnLayer
{
    private int classes;

    internal ProposalTargetLayer(LayerParameter definition) : base(definition) { }

    public override (int Min, int Max) Bottoms => (2, 2);
    public override (int Min, int Max) Tops => (5, 5);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        classes = ReadParams().Int("num_classes");
        if (classes < 2 || classes > 100_000) throw Error($"python_param param_str 'num_classes' must count the background and at least one class (2 to 100000), got {classes}.");
        var wide = new Shape(1, 4 * classes);
        return [new Shape(1, 5), new Shape(1), wide, wide, wide];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var proposals = bottoms[0];
        if (proposals.Rank != 2 || proposals.Shape[1] != 5) throw Error($"rpn_rois must be (R, 5) rows [image, x1, y1, x2, y2], got {proposals.Shape}.");
        int g = GroundTruthCount(bottoms[1]);
        var gt = bottoms[1].AsSpan();
        var cfg = Config;

        // all_rois = proposals followed by [0, gt box] rows.
        int r = proposals.Shape[0], n = r + g;
        var all = new float[n * 5];
        proposals.AsSpan().CopyTo(all);
        for (int k = 0; k < g; k++) gt.Slice(5 * k, 4).CopyTo(all.AsSpan(5 * (r + k) + 1));
        for (int i = 0; i < n; i++)
            if (all[5 * i] != 0) throw Error($"only single-image batches are supported; rpn_rois row {i} is for image {all[5 * i]}.");

        var roiBoxes = PyFasterRcnnBoxes.Continuous(all, n, stride: 5, offset: 1);
        var iou = PyFasterRcnnBoxes.Overlaps(roiBoxes, PyFasterRcnnBoxes.Continuous(gt, g, stride: 5)).AsSpan();   // (n, G)
        var assignment = new int[n];
        var kinds = new int[n];   // 1 foreground, 0 background, −1 neither
        for (int i = 0; i < n; i++)
        {
            float best = iou[i * g];
            for (int k = 1; k < g; k++) if (iou[i * g + k] > best) { best = iou[i * g + k]; assignment[i] = k; }
            kinds[i] = best >= cfg.TrainFgThresh ? 1 : best < cfg.TrainBgThreshHi && best >= cfg.TrainBgThreshLo ? 0 : -1;
        }
        var sampler = new BalancedPositiveNegativeSampler(cfg.TrainBatchSize, cfg.TrainFgFraction);
        var (foreground, background) = sampler.Sample(kinds, context.RandomFor(layerIndex));
        int[] keep = [.. foreground, .. background];

        int m = keep.Length, width = 4 * classes;
        var rois = new float[m * 5];
        var labels = new float[m];
        var targets = new float[m * width];
        var insideWeights = new float[m * width];
        var outsideWeights = new float[m * width];
        var keptBoxes = new float[m * 4];
        var matched = new float[m * 4];
        for (int j = 0; j < m; j++)
        {
            int i = keep[j];
            all.AsSpan(5 * i, 5).CopyTo(rois.AsSpan(5 * j));
            all.AsSpan(5 * i + 1, 4).CopyTo(keptBoxes.AsSpan(4 * j));
            gt.Slice(5 * assignment[i], 4).CopyTo(matched.AsSpan(4 * j));
        }
        var t = m == 0 ? [] : PyFasterRcnnBoxes.Transform(PyFasterRcnnBoxes.Continuous(keptBoxes, m), PyFasterRcnnBoxes.Continuous(matched, m));
        for (int j = 0; j < foreground.Length; j++)
        {
            float label = gt[5 * assignment[keep[j]] + 4];
            int cls = (int)label;
            if (cls != label || cls < 0 || cls >= classes) throw Error($"gt_boxes has class {label}, outside 0..{classes - 1} for num_classes {classes}.");
            labels[j] = cls;
            if (cls == 0) continue;
            for (int c = 0; c < 4; c++)
            {
                float v = t[4 * j + c];
                if (cfg.TrainBboxNormalizeTargetsPrecomputed) v = (v - cfg.TrainBboxNormalizeMeans[c]) / cfg.TrainBboxNormalizeStds[c];
                int o = j * width + 4 * cls + c;
                targets[o] = v;
                insideWeights[o] = cfg.TrainBboxInsideWeights[c];
                outsideWeights[o] = insideWeights[o] > 0 ? 1f : 0f;
            }
        }
        return [Tensor.FromArray(rois, m, 5), Tensor.FromArray(labels, m), Tensor.FromArray(targets, m, width),
            Tensor.FromArray(insideWeights, m, width), Tensor.FromArray(outsideWeights, m, width)];
    }
}
