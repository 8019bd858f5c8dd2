using Backprop.Detection;
using Backprop.Onnx;
using Backprop.Onnx.Proto;
using Xunit.Abstractions;
using Check = Backprop.Tests.Onnx.Export.Detection.DetectionOnnxCheck;

namespace Backprop.Tests.Onnx.Export.Detection;

/// <summary>
/// The detection export's pieces, each in a tiny graph of its own, against the Backprop op it stands for: RoiAlign,
/// MaxRoiPool, NMS (plain and per class, equal scores included) and box decoding with its clamp.
/// </summary>
public class DetectionOpsOnnxTests(ITestOutputHelper log)
{
    private const TensorProto.Types.DataType Float = TensorProto.Types.DataType.Float, Int64 = TensorProto.Types.DataType.Int64;

    [Theory]
    [InlineData(13, 2)]
    [InlineData(17, 2)]
    [InlineData(17, 0)]
    public void RoiAlignMatchesFunctionalRoiAlign(int opset, int samplingRatio)
    {
        var gen = new Generator(3);
        var features = Tensor.Randn(gen, 1, 3, 9, 11);
        float[] boxes = Rois(gen, 40, width: 22, height: 18);
        var g = new DetectionGraph(new OnnxGraphBuilder("roi_align", opset));
        string x = g.Graph.AddInput("features", Float, [1, 3, "h", "w"]);
        string rois = g.Graph.AddInput("rois", Float, ["r", 4]);
        g.Graph.AddOutput(RoiHeadsGraph.RoiAlign(g, x, rois, 3, samplingRatio, 0.5f, "pool"), Float, ["r", 3, 3, 3], "pooled");
        var result = Check.Run(Check.Bytes(g.Graph), Check.Input("features", features), Check.Input("rois", Tensor.FromArray(boxes, 40, 4)));

        var expected = Functional.RoiAlign(features, WithImageIndex(boxes), (3, 3), 0.5f, samplingRatio, aligned: false).ToArray();
        AssertClose(expected, (float[])result["pooled"].Values, 1e-5f, $"RoiAlign opset {opset}, sampling {samplingRatio}");
    }

    [Fact]
    public void MaxRoiPoolMatchesFunctionalRoiPoolOnNonNegativeFeatures()
    {
        var gen = new Generator(4);
        var features = Functional.Relu(Tensor.Randn(gen, 1, 3, 9, 11));
        float[] boxes = Rois(gen, 40, width: 22, height: 18);
        var g = new DetectionGraph(new OnnxGraphBuilder("roi_pool"));
        string x = g.Graph.AddInput("features", Float, [1, 3, "h", "w"]);
        string rois = g.Graph.AddInput("rois", Float, ["r", 4]);
        g.Graph.AddOutput(RoiHeadsGraph.RoiPool(g, x, rois, 3, 0.5f, "pool"), Float, ["r", 3, 3, 3], "pooled");
        var result = Check.Run(Check.Bytes(g.Graph), Check.Input("features", features), Check.Input("rois", Tensor.FromArray(boxes, 40, 4)));

        var expected = Functional.RoiPool(features, WithImageIndex(boxes), (3, 3), 0.5f).ToArray();
        // Where a bin is all zeros ONNX Runtime reports the smallest positive float (its starting maximum), not 0.
        AssertClose(expected, (float[])result["pooled"].Values, 1e-37f, "MaxRoiPool");
    }

    [Theory]
    [InlineData(1, 0.5f)]
    [InlineData(3, 0.5f)]
    [InlineData(3, 0.3f)]
    [InlineData(3, 0f)]
    public void NmsMatchesFunctionalNmsAndBatchedNmsWithEqualScores(int classes, float iou)
    {
        var gen = new Generator(5);
        int n = 300;
        float[] boxes = Rois(gen, n, width: 40, height: 40);
        // Scores in steps of 0.05: many equal scores, which Backprop orders by position.
        var scores = Tensor.FromArray(Tensor.Rand(gen, n).ToArray().Select(s => MathF.Round(s * 20) / 20).ToArray(), n);
        int[] labels = Tensor.Rand(gen, n).ToArray().Select(u => 1 + Math.Min((int)(u * classes), classes - 1)).ToArray();
        var boxTensor = Tensor.FromArray(boxes, n, 4);
        int[] expected = classes == 1 ? Functional.Nms(boxTensor, scores, iou) : Functional.BatchedNms(boxTensor, scores, labels, iou);

        foreach (int limit in new[] { n, 7 })
        {
            var g = new DetectionGraph(new OnnxGraphBuilder("nms"));
            string b = g.Graph.AddInput("boxes", Float, ["n", 4]);
            string s = g.Graph.AddInput("scores", Float, ["n"]);
            string l = g.Graph.AddInput("labels", Int64, ["n"]);
            g.Graph.AddOutput(g.BatchedNms(b, s, l, classes, limit, iou, "nms"), Int64, ["k"], "kept");
            var result = Check.Run(Check.Bytes(g.Graph), Check.Input("boxes", boxTensor), Check.Input("scores", scores),
                Check.Input("labels", labels.Select(v => (long)v).ToArray()));
            Assert.Equal(expected.Take(limit).Select(k => (long)k), (long[])result["kept"].Values);
        }
        log.WriteLine($"{classes} classes, IoU {iou}: {expected.Length} of {n} boxes kept, as Backprop");
    }

    [Fact]
    public void BoxDecodingMatchesBoxCoderIncludingTheClampOfWidthAndHeight()
    {
        var gen = new Generator(6);
        int n = 64;
        float[] anchors = Rois(gen, n, width: 100, height: 80);
        // Deltas up to ±30: dw, dh / weight beyond the clip of ln(1000/16) are clamped before exp.
        var deltas = Tensor.Randn(gen, n, 8) * 10f;
        var coder = new BoxCoder((10f, 10f, 5f, 5f));
        var g = new DetectionGraph(new OnnxGraphBuilder("decode"));
        string d = g.Graph.AddInput("deltas", Float, ["n", 2, 4]);
        string a = g.Graph.AddInput("anchors", Float, ["n", 1, 4]);
        g.Graph.AddOutput(BoxGraph.Decode(g, d, a, coder, "decode"), Float, ["n", 2, 4], "boxes");
        var result = Check.Run(Check.Bytes(g.Graph), Check.Input("deltas", deltas.Reshape(n, 2, 4)), Check.Input("anchors", Tensor.FromArray(anchors, n, 1, 4)));

        var expected = coder.Decode(deltas, Tensor.FromArray(anchors, n, 4)).ToArray();
        Assert.Contains(deltas.ToArray().Where((_, i) => i % 4 >= 2), v => v / 5f > coder.BoxTransformClip);
        float[] actual = (float[])result["boxes"].Values;
        for (int i = 0; i < expected.Length; i++)   // relative: clamped boxes are thousands of pixels wide
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6f * Math.Max(1f, Math.Abs(expected[i])), $"coordinate {i}: {actual[i]} vs {expected[i]}");
    }

    /// <summary>Random boxes (n, 4) in an image of the given size, among them tiny ones (under a pixel) and ones running off the edges.</summary>
    private static float[] Rois(Generator gen, int n, float width, float height)
    {
        float[] u = Tensor.Rand(gen, n, 4).ToArray();
        var boxes = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            float x = u[4 * i] * width * 1.2f - 0.1f * width, y = u[4 * i + 1] * height * 1.2f - 0.1f * height;
            float scale = i % 5 == 0 ? 0.02f : 0.5f;   // every fifth box smaller than one feature pixel
            boxes[4 * i] = x; boxes[4 * i + 1] = y;
            boxes[4 * i + 2] = x + u[4 * i + 2] * width * scale; boxes[4 * i + 3] = y + u[4 * i + 3] * height * scale;
        }
        return boxes;
    }

    private static Tensor WithImageIndex(float[] boxes)
    {
        int n = boxes.Length / 4;
        var rows = new float[5 * n];
        for (int i = 0; i < n; i++) Array.Copy(boxes, 4 * i, rows, 5 * i + 1, 4);
        return Tensor.FromArray(rows, n, 5);
    }

    private void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= tolerance, $"{what}[{i}]: ONNX Runtime {actual[i]} vs Backprop {expected[i]}");
            max = Math.Max(max, diff);
        }
        log.WriteLine($"{what}: {expected.Length} values, max diff {max:g3}");
    }
}
