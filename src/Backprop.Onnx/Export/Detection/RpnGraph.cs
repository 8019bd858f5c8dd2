using Backprop.Detection;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// The region proposal network of <see cref="RegionProposalNetwork.Propose"/> in test mode, for one image: head,
/// softmax objectness, anchors made in the graph from the feature map's size, the pre-NMS top N, decoding, clipping,
/// small boxes dropped, NMS and the post-NMS top N.
/// </summary>
internal static class RpnGraph
{
    /// <summary>Proposals (P, 4) for the features (1, C, h, w) of an image whose bounds come from <see cref="BoxGraph.ImageBounds"/>.</summary>
    public static string Proposals(DetectionGraph g, RegionProposalNetwork rpn, OnnxValue features, string bounds)
    {
        var options = rpn.Options;
        float iou = FasterRcnnOnnxExport.NmsThreshold(options.NmsThreshold, "rpn", nameof(RegionProposalNetwork));
        var head = new OnnxExportContext(g.Graph, rpn.Head, "rpn.head");
        var hidden = head.Relu(head.Export(rpn.Head.Conv, features));
        string scores = head.Export(rpn.Head.Scores, hidden).Name;   // (1, 2k, h, w): background k channels, then object
        string deltas = head.Export(rpn.Head.Deltas, hidden).Name;   // (1, 4k, h, w): 4 per anchor type
        int k = rpn.Head.AnchorsPerLocation;

        // The softmax's object probability 1 / (1 + exp(background − object)), rows in the anchors' (y, x, type) order.
        string difference = g.Sub(g.Slice(scores, 1, 0, k, "rpn.background"), g.Slice(scores, 1, k, 2 * k, "rpn.object"), "rpn.logit_difference");
        difference = g.Reshape(g.Transpose(difference, "rpn.logits_yxa", 0, 2, 3, 1), "rpn.logits", -1);
        string one = g.Scalar("rpn.one", 1f);
        string objectness = g.Div(one, g.Add(one, g.Node("Exp", "rpn.exp", [difference]), "rpn.denominator"), "rpn.objectness");
        string rowDeltas = g.Reshape(g.Transpose(g.Reshape(deltas, "rpn.deltas_kjp", k, 4, -1), "rpn.deltas_pkj", 2, 0, 1), "rpn.deltas", -1, 4);
        string anchors = Anchors(g, rpn, scores);

        // The pre-NMS top N by objectness (ties: lower anchor first, as Backprop's sort), decoded and clipped.
        string count = g.AtMost(g.Dim(objectness, 0, "rpn.anchor_count"), options.PreNmsTopNTest, "rpn.pre_nms_top_n");
        string order = g.Graph.AddNode("TopK", "rpn.top", [objectness, count], 2,
            OnnxAttributes.Int("axis", 0), OnnxAttributes.Int("largest", 1), OnnxAttributes.Int("sorted", 1))[1];
        string boxes = BoxGraph.Decode(g, g.Gather(rowDeltas, order, 0, "rpn.top_deltas"), g.Gather(anchors, order, 0, "rpn.top_anchors"),
            new BoxCoder((1f, 1f, 1f, 1f)), "rpn.decode");
        boxes = BoxGraph.Clip(g, boxes, bounds, "rpn.clip");
        boxes = g.Gather(boxes, g.Positions(BoxGraph.LargeEnough(g, boxes, options.MinSize, "rpn.large_enough"), "rpn.large"), 0, "rpn.large_boxes");

        // NMS in the sorted order, the first post-NMS top N kept.
        string rank = g.Unsqueeze(g.RankScores(boxes, "rpn.rank"), "rpn.rank_row", 0);
        string keep = g.Nms(boxes, rank, options.PostNmsTopNTest, iou, "rpn.nms");
        return g.Gather(boxes, keep, 0, "rpn.proposals");
    }

    /// <summary>
    /// <see cref="AnchorGenerator.GridAnchors"/> for the feature map of <paramref name="scores"/> (1, ·, h, w): (h·w·A, 4),
    /// row (y·w + x)·A + a = cell anchor a + (x·stride, y·stride, x·stride, y·stride), added as Backprop adds them.
    /// </summary>
    private static string Anchors(DetectionGraph g, RegionProposalNetwork rpn, string scores)
    {
        var cell = rpn.AnchorGenerator.CellAnchors();
        string cells = g.Floats("rpn.cell_anchors", cell.ToArray(), 1, 1, cell.Shape[0], 4);
        string stride = g.Scalar("rpn.stride", rpn.FeatureStride);
        string Shifts(int axis, string what)
        {
            string size = g.Cast(g.ToScalar(g.Dim(scores, axis, $"rpn.{what}_cells"), $"rpn.{what}_count"), TensorProto.Types.DataType.Float, $"rpn.{what}_size");
            return g.Mul(g.Node("Range", $"rpn.{what}_index", [g.Scalar($"rpn.{what}_start", 0f), size, g.Scalar($"rpn.{what}_step", 1f)]), stride, $"rpn.{what}_shift");
        }
        string sx = g.Mul(g.Reshape(Shifts(3, "x"), "rpn.x_shift_column", 1, -1, 1, 1), g.Floats("rpn.x_mask", [1f, 0f, 1f, 0f], 4), "rpn.x_shift4");
        string sy = g.Mul(g.Reshape(Shifts(2, "y"), "rpn.y_shift_column", -1, 1, 1, 1), g.Floats("rpn.y_mask", [0f, 1f, 0f, 1f], 4), "rpn.y_shift4");
        return g.Reshape(g.Add(g.Add(cells, sx, "rpn.anchors_x"), sy, "rpn.anchors_yx"), "rpn.anchors", -1, 4);
    }
}
