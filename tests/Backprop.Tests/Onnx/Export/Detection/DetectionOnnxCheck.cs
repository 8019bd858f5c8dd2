using Backprop.Detection;
using Backprop.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export.Detection;

/// <summary>Small detectors, images and ONNX Runtime runs for the detection export tests.</summary>
internal static class DetectionOnnxCheck
{
    /// <summary>Box coordinates may differ by this many pixels, scores by <see cref="ScoreTolerance"/>.</summary>
    public const float BoxTolerance = 1e-3f, ScoreTolerance = 1e-4f;

    /// <summary>
    /// A small-backbone Faster R-CNN for 128-pixel images whose random heads are scaled up so that objectness and class
    /// scores spread out: several confident detections per image, and scores far apart compared with float rounding.
    /// </summary>
    public static FasterRcnn Model(ulong seed, RoiHeadsOptions? heads = null, RpnOptions? rpn = null)
    {
        var model = FasterRcnn.Create(new FasterRcnnConfig
        {
            Classes = SyntheticShapes.ClassNames, ImageSize = 128, RepresentationSize = 64,
            RoiHeads = heads ?? new RoiHeadsOptions { ScoreThreshold = 0.3f }, Rpn = rpn ?? new RpnOptions(),
        }, seed);
        return Sharpen(model);
    }

    /// <summary>
    /// Scales up the random predictors of <paramref name="model"/> (in eval mode on return): untrained, every class scores
    /// about 1 / (C + 1) and near-equal scores would be ordered by float rounding rather than by the model.
    /// </summary>
    public static FasterRcnn Sharpen(FasterRcnn model, float classScale = 100f)
    {
        Scale(model.Rpn.Head.Scores.Weight, 100f);
        Scale(model.Rpn.Head.Deltas.Weight, 20f);
        Scale(model.RoiHeads.ClassScores.Weight, classScale);
        Scale(model.RoiHeads.BoxDeltas.Weight, 300f);
        model.Eval();
        return model;
    }

    /// <summary>Synthetic-shapes image <paramref name="index"/> (1, 3, height, width): drawn at the larger size, cropped to the top rows.</summary>
    public static Tensor Image(int index, int height = 128, int width = 128)
    {
        var image = SyntheticShapes.Generate(7, index, Math.Max(height, width)).Image;
        var pixels = new float[3 * height * width];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < height; y++)
                Array.Copy(image.Pixels, (c * image.Height + y) * image.Width, pixels, (c * height + y) * width, width);
        return Tensor.FromArray(pixels, 1, 3, height, width);
    }

    /// <summary>Runs a model in ONNX Runtime (one thread) on named inputs; returns every output by name.</summary>
    public static Dictionary<string, (Array Values, int[] Shape)> Run(byte[] model, params NamedOnnxValue[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var results = session.Run(inputs);
        var outputs = new Dictionary<string, (Array, int[])>();
        foreach (var r in results)
            outputs[r.Name] = r.Value switch
            {
                Tensor<float> f => (f.ToArray(), f.Dimensions.ToArray()),
                Tensor<long> l => (l.ToArray(), l.Dimensions.ToArray()),
                _ => throw new InvalidOperationException($"Unexpected output type of {r.Name}."),
            };
        return outputs;
    }

    public static byte[] Bytes(OnnxGraphBuilder graph)
    {
        using var stream = new MemoryStream();
        graph.Write(stream);
        return stream.ToArray();
    }

    public static NamedOnnxValue Input(string name, Tensor x) =>
        NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(x.ToArray(), x.Shape.ToArray()));

    public static NamedOnnxValue Input(string name, long[] values) =>
        NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(values, [values.Length]));

    /// <summary>
    /// Asserts ONNX Runtime's detections for <paramref name="image"/> are <see cref="FasterRcnn.Detect"/>'s: same count,
    /// labels, order; boxes within <see cref="BoxTolerance"/>, scores within <see cref="ScoreTolerance"/>. Returns the count.
    /// </summary>
    public static int AssertDetectionsMatch(FasterRcnn model, byte[] onnx, Tensor image, ITestOutputHelper log, string what)
    {
        var expected = model.Detect(image, [(image.Shape[2], image.Shape[3])])[0];
        var actual = Run(onnx, Input(FasterRcnnOnnxExport.ImagesName, image));
        var boxes = (float[])actual[FasterRcnnOnnxExport.BoxesName].Values;
        var scores = (float[])actual[FasterRcnnOnnxExport.ScoresName].Values;
        var labels = (long[])actual[FasterRcnnOnnxExport.LabelsName].Values;
        Assert.Equal([expected.Count, 4], actual[FasterRcnnOnnxExport.BoxesName].Shape);
        Assert.Equal(expected.Count, scores.Length);
        Assert.Equal(expected.Labels.Select(l => (long)l), labels);
        float[] b = expected.Boxes.ToArray();
        double boxDiff = 0, scoreDiff = 0;
        for (int i = 0; i < b.Length; i++)
        {
            Assert.True(Math.Abs(boxes[i] - b[i]) <= BoxTolerance, $"{what}: box coordinate {i}: ONNX Runtime {boxes[i]} vs Backprop {b[i]}");
            boxDiff = Math.Max(boxDiff, Math.Abs(boxes[i] - b[i]));
        }
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.True(Math.Abs(scores[i] - expected.Scores[i]) <= ScoreTolerance, $"{what}: score {i}: ONNX Runtime {scores[i]} vs Backprop {expected.Scores[i]}");
            scoreDiff = Math.Max(scoreDiff, Math.Abs(scores[i] - expected.Scores[i]));
        }
        log.WriteLine($"{what} {image.Shape}: {expected.Count} detections (scores {(expected.Count == 0 ? "-" : $"{expected.Scores.Min():F3}..{expected.Scores.Max():F3}")}), " +
            $"{model.LastRpnOutput!.Proposals[0].Shape[0]} proposals; max box diff {boxDiff:g3}, max score diff {scoreDiff:g3}");
        return expected.Count;
    }

    private static void Scale(Tensor t, float factor)
    {
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++) s[i] *= factor;
    }
}
