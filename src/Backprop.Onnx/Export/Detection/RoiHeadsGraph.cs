using Backprop.Detection;
using Backprop.Onnx.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// The second stage of <see cref="RoiHeads.Detect"/> for one image: pooling of the proposals, fc6/fc7, class scores
/// and per-class box deltas, softmax, per-class decoding and clipping, the score and size thresholds, NMS within each
/// class, and the best detections by score.
/// </summary>
internal static class RoiHeadsGraph
{
    /// <summary>Detections (D, 4), (D), (D) int64 labels 1..C for <paramref name="proposals"/> (P, 4) on <paramref name="features"/> (1, C, h, w).</summary>
    public static (string Boxes, string Scores, string Labels) Detect(DetectionGraph g, RoiHeads heads, OnnxValue features, string proposals,
        string bounds, bool poolingNeedsNonNegativeFeatures)
    {
        var options = heads.Options;
        float iou = FasterRcnnOnnxExport.NmsThreshold(options.NmsThreshold, "roi_heads", nameof(RoiHeads));
        int classes = heads.NumClasses, columns = classes + 1, size = options.PooledSize;

        string pooled = Pool(g, heads, features.Name, proposals, poolingNeedsNonNegativeFeatures);
        var context = new OnnxExportContext(g.Graph, heads, "roi_heads");
        var x = new OnnxValue(g.Node("Flatten", "roi_heads.flatten", [pooled], Int("axis", 1)), [features.SampleShape[0] * size * size]);
        x = context.Relu(context.Export(heads.Fc6, x));
        x = context.Relu(context.Export(heads.Fc7, x));
        string probability = g.Node("Softmax", "roi_heads.softmax", [context.Export(heads.ClassScores, x).Name], Int("axis", 1));   // (P, C + 1)
        string deltas = g.Reshape(context.Export(heads.BoxDeltas, x).Name, "roi_heads.class_deltas", 0, columns, 4);               // (P, C + 1, 4)

        string boxes = BoxGraph.Decode(g, deltas, g.Unsqueeze(proposals, "roi_heads.proposal_rows", 1), new BoxCoder(options.BoxCoderWeights), "roi_heads.decode");
        boxes = BoxGraph.Clip(g, boxes, bounds, "roi_heads.clip");
        // Background (class 0) is never reported: rows j·C + (c − 1) for proposal j and class c, as Detect visits them.
        boxes = g.Reshape(g.Slice(boxes, 1, 1, columns, "roi_heads.object_boxes"), "roi_heads.candidate_boxes", -1, 4);
        string objectScores = g.Slice(probability, 1, 1, columns, "roi_heads.object_scores");
        string classIds = g.Int64s("roi_heads.class_ids", Enumerable.Range(1, classes).Select(c => (long)c).ToArray());
        string labels = g.Reshape(g.Node("Expand", "roi_heads.label_grid", [classIds, g.Node("Shape", "roi_heads.score_shape", [objectScores])]), "roi_heads.candidate_labels", -1);
        string scores = g.Reshape(objectScores, "roi_heads.candidate_scores", -1);

        // Score above the threshold (strictly) and both sides at least 0.01 pixel.
        string confident = g.Node("Greater", "roi_heads.confident", [scores, g.Scalar("roi_heads.score_threshold", options.ScoreThreshold)]);
        string keep = g.Positions(g.Node("And", "roi_heads.candidate", [confident, BoxGraph.LargeEnough(g, boxes, 1e-2f, "roi_heads.large_enough")]), "roi_heads.kept");
        boxes = g.Gather(boxes, keep, 0, "roi_heads.kept_boxes");
        scores = g.Gather(scores, keep, 0, "roi_heads.kept_scores");
        labels = g.Gather(labels, keep, 0, "roi_heads.kept_labels");

        string best = g.BatchedNms(boxes, scores, labels, classes, options.DetectionsPerImage, iou, "roi_heads.batched_nms");
        return (g.Gather(boxes, best, 0, "roi_heads.boxes"), g.Gather(scores, best, 0, "roi_heads.scores"), g.Gather(labels, best, 0, "roi_heads.labels"));
    }

    /// <summary>RoIAlign (aligned = false) or RoI max pooling of the proposals: (P, C, S, S).</summary>
    private static string Pool(DetectionGraph g, RoiHeads heads, string features, string proposals, bool poolingNeedsNonNegativeFeatures)
    {
        var options = heads.Options;
        float scale = 1f / heads.FeatureStride;
        if (options.Pooler == RoiPoolerKind.Align) return RoiAlign(g, features, proposals, options.PooledSize, options.SamplingRatio, scale, "roi_heads");
        // ONNX Runtime's MaxRoiPool rounds and bins as Backprop's RoiPool, but starts each bin's maximum at the smallest
        // positive float instead of below every number: the same only on features that are never negative.
        if (!poolingNeedsNonNegativeFeatures)
            throw new OnnxExportException("roi_heads", nameof(RoiHeads),
                "RoI max pooling (RoiPoolerKind.Pool) exports as ONNX MaxRoiPool, which ONNX Runtime computes as Backprop does only on non-negative features; "
                + "this backbone is not known to end in a ReLU. Use RoiPoolerKind.Align or a built-in backbone.");
        return RoiPool(g, features, proposals, options.PooledSize, scale, "roi_heads");
    }

    /// <summary>
    /// <see cref="Functional.RoiAlign"/> with aligned = false of boxes (P, 4) on image 0 of <paramref name="features"/>:
    /// (P, C, size, size). A sampling ratio ≤ 0 is adaptive in both.
    /// </summary>
    internal static string RoiAlign(DetectionGraph g, string features, string boxes, int size, int samplingRatio, float scale, string name)
    {
        // Every RoI is on image 0. Opset 16 added half-pixel coordinates as the default; output_half_pixel is RoiAlign-10's
        // (and torchvision's aligned = false): no −0.5 offset, RoI sides forced to at least 1.
        string imageIndex = g.Node("ConstantOfShape", name + ".image_index", [g.Dim(boxes, 0, name + ".box_count")],
            DetectionGraph.TensorAttribute("value", TensorProto.Types.DataType.Int64, [1], 0));
        var attributes = new List<AttributeProto>
        {
            String("mode", "avg"), Int("output_height", size), Int("output_width", size),
            Int("sampling_ratio", Math.Max(samplingRatio, 0)), Float("spatial_scale", scale),
        };
        if (g.Graph.Opset >= 16) attributes.Add(String("coordinate_transformation_mode", "output_half_pixel"));
        return g.Node("RoiAlign", name + ".roi_align", [features, boxes, imageIndex], [.. attributes]);
    }

    /// <summary><see cref="Functional.RoiPool"/> (as ONNX MaxRoiPool) of boxes (P, 4) on image 0 of non-negative <paramref name="features"/>.</summary>
    internal static string RoiPool(DetectionGraph g, string features, string boxes, int size, float scale, string name)
    {
        string count = g.Dim(boxes, 0, name + ".box_count");
        string shape = g.Concat([count, g.Int64s(name + ".one_column", 1)], 0, name + ".index_shape");
        string zeros = g.Node("ConstantOfShape", name + ".image_index", [shape], DetectionGraph.TensorAttribute("value", TensorProto.Types.DataType.Float, [1], 0));
        string rois = g.Concat([zeros, boxes], 1, name + ".rois");
        return g.Node("MaxRoiPool", name + ".roi_pool", [features, rois], Ints("pooled_shape", size, size), Float("spatial_scale", scale));
    }
}
