using System.Diagnostics;
using Backprop.Cli;
using Backprop.Detection;
using Backprop.Tests.IO;
using SkiaSharp;
using Xunit.Abstractions;

namespace Backprop.Tests.Detection;

/// <summary>
/// The detection commands on a tiny synthetic VOC set: a short training from scratch whose mAP rises far above chance,
/// scoring, drawing detections, drawing anchors.
/// </summary>
public sealed class DetectionEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory dir = new();

    [Fact]
    public void ASmallFasterRcnnTrainedForAMinuteDetectsFarAboveAnUntrainedOne()
    {
        string root = Path.Combine(dir.Path, "voc");
        SyntheticShapes.WriteVoc(root, trainCount: 80, testCount: 24, seed: 3, imageSize: 128);
        string model = dir.File("model.safetensors");
        var classes = new VocDataset(root, "trainval").Classes;
        var untrained = FasterRcnn.Create(new FasterRcnnConfig { Classes = classes, AnchorSizes = [18f, 36f, 73f], ImageSize = 128 }, seed: 1);
        double chance = DetectionTraining.Evaluate(untrained, new VocDataset(root, "test", classes)).MeanAp;
        var clock = Stopwatch.StartNew();
        var options = new DetectionTrainingOptions { Epochs = 10, BatchSize = 4, LearningRate = 0.02f, WarmupIterations = 20, Seed = 1 };
        Assert.Equal(0, DetectTrainCommand.Run(root, "trainval", "small", 128, [18f, 36f, 73f], RoiPoolerKind.Align, options, display: 1000, model));
        output.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s");

        var detector = DetectorFile.Load(model);
        var test = new VocDataset(root, "test", detector.Config!.Classes);
        var result = DetectionTraining.Evaluate(detector, test);
        double recall = DetectionTraining.RpnRecall(detector, test, 300);
        output.WriteLine($"{result}; RPN recall@300 {recall:F3}; untrained mAP {chance:F4}");
        // 200 iterations from scratch on 8x8 feature maps: far from the 0.97 of a full run (bench/detection), far above
        // the untrained network's near-zero mAP (its boxes rarely reach IoU 0.5 with the right class).
        Assert.True(chance < 0.02, $"untrained mAP@0.5 {chance:F4}");
        Assert.True(result.MeanAp > 0.1 && result.MeanAp > 5 * chance, $"mAP@0.5 {result.MeanAp:F3} after a short training (untrained {chance:F4})");
        Assert.True(recall > 0.5, $"RPN recall {recall:F3}");

        Assert.Equal(0, DetectEvalCommand.Run(root, "test", model, use07: true, coco: true));
        string picture = dir.File("detections.png");
        Assert.Equal(0, DetectRunCommand.Run(model, test.ImagePath(0), picture, minScore: 0.3f));
        using var bitmap = SKBitmap.Decode(picture);
        Assert.True(bitmap.Width >= 256, "the picture is enlarged for reading");
    }

    [Fact]
    public void TheAnchorsCommandDrawsTheKAnchorsAndTheSampledOnes()
    {
        string root = Path.Combine(dir.Path, "voc");
        SyntheticShapes.WriteVoc(root, trainCount: 2, testCount: 0, seed: 5);
        var data = new VocDataset(root, "trainval");
        string id = data.Id(0);
        string picture = dir.File("anchors.png");
        Assert.Equal(0, AnchorsCommand.Run(data.ImagePath(0), Path.Combine(root, "Annotations", id + ".xml"), 16, [32f, 64f, 128f], [0.5f, 1f, 2f], null, 1, picture));
        using var bitmap = SKBitmap.Decode(picture);
        Assert.NotNull(bitmap);
        // Two panels side by side; red (positive) and blue (negative) marks on the right one.
        Assert.True(bitmap.Width > 1.6 * bitmap.Height, $"{bitmap.Width}x{bitmap.Height}");
        bool red = false, blue = false;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = bitmap.Width / 2; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                red |= c.Red > 230 && c.Green < 70 && c.Blue < 70;
                blue |= c.Blue > 230 && c.Red < 70 && c.Green < 120;
            }
        Assert.True(red && blue, $"red {red}, blue {blue}");

        var e = Assert.Throws<ArgumentException>(() => AnchorsCommand.Run(data.ImagePath(0), null, 16, [32f], [1f], "99,0", 1, picture));
        Assert.Contains("--position", e.Message);
    }

    public void Dispose() => dir.Dispose();
}
