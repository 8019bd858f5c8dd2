using Backprop.Caffe.Proto;
using Backprop.Detection;

namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's <c>rpn.proposal_layer.ProposalLayer</c>. Bottoms: rpn_cls_prob_reshape (1, 2A, H, W) (the last A
/// channels are the object scores), rpn_bbox_pred (1, 4A, H, W), im_info (1, 3). Tops: rois (R, 5) rows
/// [0, x1, y1, x2, y2] and optionally their scores (R, 1), by decreasing score.
/// </summary>
/// <remarks>
/// Each shifted anchor is moved by its deltas (bbox_transform_inv), clipped to the image, dropped when a side is below
/// RPN_MIN_SIZE · im_info scale; the RPN_PRE_NMS_TOP_N best go through NMS at RPN_NMS_THRESH and the first
/// RPN_POST_NMS_TOP_N remain. The settings are the TRAIN or TEST ones by the net's phase, as py-faster-rcnn's
/// <c>cfg[str(self.phase)]</c>.
/// </remarks>
public sealed class ProposalLayer : PyFasterRcnnLayer
{
    private Tensor baseAnchors = null!;
    private int stride;

    internal ProposalLayer(LayerParameter definition) : base(definition) { }

    public override (int Min, int Max) Bottoms => (3, 3);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        (baseAnchors, stride) = Anchors(ReadParams());
        int a = baseAnchors.Shape[0];
        if (bottoms[0].Rank != 4 || bottoms[0][1] != 2 * a) throw Error($"the scores must be (1, {2 * a}, H, W) for {a} anchors, got {bottoms[0]}.");
        if (bottoms[1].Rank != 4 || bottoms[1][1] != 4 * a) throw Error($"the box deltas must be (1, {4 * a}, H, W) for {a} anchors, got {bottoms[1]}.");
        return Definition.Top.Count == 2 ? [new Shape(1, 5), new Shape(1, 1)] : [new Shape(1, 5)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        RequireOneImage(bottoms[0].Shape, "the scores");
        int a = baseAnchors.Shape[0], height = bottoms[0].Shape[2], width = bottoms[0].Shape[3], plane = height * width;
        if (bottoms[1].Shape != new Shape(1, 4 * a, height, width))
            throw Error($"the box deltas {bottoms[1].Shape} do not match the scores {bottoms[0].Shape}.");
        var (imHeight, imWidth, imScale) = ImageInfo(bottoms[2]);
        var settings = context.IsTraining ? Config.TrainProposals : Config.TestProposals;

        // Caffe's (1, C, H, W) to py-faster-rcnn's anchor order (y·W + x)·A + a.
        int total = plane * a;
        var probabilities = bottoms[0].AsSpan();
        var predicted = bottoms[1].AsSpan();
        var scores = new float[total];
        var deltas = new float[4 * total];
        for (int cell = 0; cell < plane; cell++)
            for (int k = 0; k < a; k++)
            {
                int i = cell * a + k;
                scores[i] = probabilities[(a + k) * plane + cell];
                for (int c = 0; c < 4; c++) deltas[4 * i + c] = predicted[(4 * k + c) * plane + cell];
            }

        var anchors = PyFasterRcnnAnchors.Shift(baseAnchors, height, width, stride).AsSpan();
        var boxes = PyFasterRcnnBoxes.Apply(PyFasterRcnnBoxes.Continuous(anchors, total), Tensor.FromArray(deltas, total, 4));
        float minSize = settings.MinSize * imScale;
        var keep = new List<int>(total);
        for (int i = 0; i < total; i++)
        {
            for (int c = 0; c < 4; c++)
                boxes[4 * i + c] = Math.Max(Math.Min(boxes[4 * i + c], (c % 2 == 0 ? imWidth : imHeight) - 1), 0);
            if (boxes[4 * i + 2] - boxes[4 * i] + 1 >= minSize && boxes[4 * i + 3] - boxes[4 * i + 1] + 1 >= minSize) keep.Add(i);
        }

        // Best scores first (stable for ties); NaN scores last.
        var order = keep.ToArray();
        Array.Sort(order, (x, y) => scores[y].CompareTo(scores[x]) is var c && c != 0 ? c : x.CompareTo(y));
        if (settings.PreNmsTopN > 0 && order.Length > settings.PreNmsTopN) order = order[..settings.PreNmsTopN];
        var candidate = new float[order.Length * 4];
        var candidateScores = new float[order.Length];
        for (int j = 0; j < order.Length; j++)
        {
            boxes.AsSpan(4 * order[j], 4).CopyTo(candidate.AsSpan(4 * j));
            candidateScores[j] = scores[order[j]];
        }
        var kept = PyFasterRcnnBoxes.Nms(PyFasterRcnnBoxes.Continuous(candidate, order.Length), Tensor.FromArray(candidateScores, order.Length), settings.NmsThresh);
        if (settings.PostNmsTopN > 0 && kept.Length > settings.PostNmsTopN) kept = kept[..settings.PostNmsTopN];

        var rois = new float[kept.Length * 5];
        var keptScores = new float[kept.Length];
        for (int j = 0; j < kept.Length; j++)
        {
            candidate.AsSpan(4 * kept[j], 4).CopyTo(rois.AsSpan(5 * j + 1));
            keptScores[j] = candidateScores[kept[j]];
        }
        var roiTop = Tensor.FromArray(rois, kept.Length, 5);
        return Definition.Top.Count == 2 ? [roiTop, Tensor.FromArray(keptScores, kept.Length, 1)] : [roiTop];
    }
}
