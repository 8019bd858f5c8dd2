using Backprop.Detection;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Writes a <see cref="FasterRcnn"/> as one ONNX model that computes <see cref="FasterRcnn.Detect"/> in evaluation mode
/// for one image: input <c>images</c> (1, 3, height, width), RGB in [0, 1], any height and width (the anchors are made
/// in the graph from the feature map's size); outputs <c>boxes</c> (D, 4) float (x1, y1, x2, y2) in the input's pixels,
/// <c>scores</c> (D) float and <c>labels</c> (D) int64 (1..C; 0, the background, is never reported), D ≤
/// <see cref="RoiHeadsOptions.DetectionsPerImage"/>, best first. The batch is 1: detect one image per run.
/// </summary>
/// <remarks>
/// The graph: normalization (Sub, Mul) → backbone → RPN head → softmax objectness → TopK (pre-NMS top N) → box decoding
/// with the clamp of dw, dh → clip → small boxes dropped → NonMaxSuppression → post-NMS top N → RoiAlign (or MaxRoiPool)
/// → fc6, fc7, cls_score, bbox_pred → softmax → per-class decoding → clip → score and size thresholds → NMS per class →
/// top detections. All of <see cref="RpnOptions"/>' and <see cref="RoiHeadsOptions"/>' test-time settings are honoured;
/// their training settings do not apply. Images the model's <see cref="FasterRcnnConfig.ImageSize"/> asks for are
/// resized by the caller, as before <see cref="FasterRcnn.Detect"/>. NMS visits boxes in Backprop's order, equal scores
/// included, so the detections are Backprop's up to float rounding of the convolutions and products.
/// </remarks>
public static class FasterRcnnOnnxExport
{
    /// <summary>Names of the graph's input and outputs.</summary>
    public const string ImagesName = "images", BoxesName = "boxes", ScoresName = "scores", LabelsName = "labels";

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/>, written atomically.</summary>
    /// <exception cref="OnnxExportException">Part of the model has no ONNX form; the message names it and why.</exception>
    public static void Export(FasterRcnn model, string path, FasterRcnnOnnxExportOptions? options = null) => BuildGraph(model, options).Save(path);

    /// <summary>As <see cref="Export(FasterRcnn, string, FasterRcnnOnnxExportOptions?)"/>, writing to <paramref name="stream"/> (left open).</summary>
    public static void Export(FasterRcnn model, Stream stream, FasterRcnnOnnxExportOptions? options = null) => BuildGraph(model, options).Write(stream);

    /// <summary>The graph of <paramref name="model"/>, ready to write or to inspect.</summary>
    public static OnnxGraphBuilder BuildGraph(FasterRcnn model, FasterRcnnOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new FasterRcnnOnnxExportOptions();
        var builder = new OnnxGraphBuilder(options.GraphName ?? nameof(FasterRcnn), options.Opset);
        var g = new DetectionGraph(builder);
        string images = builder.AddInput(ImagesName, TensorProto.Types.DataType.Float, [1, 3, "height", "width"]);

        var normalized = new OnnxValue(Normalize(g, model, images), [3, NominalSize, NominalSize]);
        var (features, nonNegative) = Backbone(g, model.Backbone, normalized);
        string bounds = BoxGraph.ImageBounds(g, images, "image_bounds");
        string proposals = RpnGraph.Proposals(g, model.Rpn, features, bounds);
        var (boxes, scores, labels) = RoiHeadsGraph.Detect(g, model.RoiHeads, features, proposals, bounds, nonNegative);

        builder.AddOutput(boxes, TensorProto.Types.DataType.Float, ["detections", 4], BoxesName);
        builder.AddOutput(scores, TensorProto.Types.DataType.Float, ["detections"], ScoresName);
        builder.AddOutput(labels, TensorProto.Types.DataType.Int64, ["detections"], LabelsName);
        return builder;
    }

    // Shapes are followed through the backbone and heads at this size only to check each layer's attributes; the graph
    // itself takes any image size.
    private const int NominalSize = 224;

    /// <summary>An NMS IoU threshold ONNX can take: in [0, 1] (above 1 suppresses nothing, as 1 does).</summary>
    internal static float NmsThreshold(float threshold, string path, string type)
    {
        if (!(threshold >= 0))
            throw new OnnxExportException(path, type, $"its NMS IoU threshold {threshold} is below 0 (or NaN); ONNX NonMaxSuppression takes thresholds in [0, 1].");
        return Math.Min(threshold, 1f);
    }

    // (images − mean) · (1 / std), as FasterRcnn.Normalize for an image that fills its tensor.
    private static string Normalize(DetectionGraph g, FasterRcnn model, string images)
    {
        if (model.Mean is not { Length: 3 } || model.Std is not { Length: 3 })
            throw new OnnxExportException("", nameof(FasterRcnn), $"its Mean and Std must have 3 values (RGB), got {model.Mean?.Length ?? 0} and {model.Std?.Length ?? 0}.");
        string mean = g.Floats("normalize.mean", [.. model.Mean], 1, 3, 1, 1);
        string scale = g.Floats("normalize.scale", model.Std.Select(s => 1f / s).ToArray(), 1, 3, 1, 1);
        return g.Mul(g.Sub(images, mean, "normalize.centered"), scale, "normalize");
    }

    /// <summary>The backbone's features, and whether they are known never to be negative (they end in a ReLU).</summary>
    private static (OnnxValue Features, bool NonNegative) Backbone(DetectionGraph g, Backbone backbone, OnnxValue x)
    {
        var context = new OnnxExportContext(g.Graph, backbone, "backbone");
        switch (backbone)
        {
            case SmallBackbone:
                // Its one child, "features", is the Sequential that Forward runs.
                var (_, features) = backbone.NamedChildren().Single();
                return (context.Export(features, x), true);
            case Vgg16Backbone:
                // Its registered children are the convolutions conv{block}_{i}; Forward adds a ReLU after each and a 2x2
                // max pooling between blocks.
                string? block = null;
                foreach (var (name, conv) in backbone.NamedChildren())
                {
                    string current = name[..Math.Max(name.IndexOf('_'), 0)];
                    if (block is not null && current != block)
                        x = context.Node("MaxPool", "pool" + block[4..], [x], [x.SampleShape[0], x.SampleShape[1] / 2, x.SampleShape[2] / 2],
                            OnnxAttributes.Ints("kernel_shape", 2, 2), OnnxAttributes.Ints("strides", 2, 2));
                    x = context.Relu(context.Export(conv, x));
                    block = current;
                }
                return (x, true);
            case IOnnxExportable custom:
                return (custom.ExportOnnx(context, x), false);
            default:
                throw context.Unsupported("a custom backbone's Forward is code the exporter cannot read; implement IOnnxExportable on it.");
        }
    }
}
