using Backprop.Detection;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Detection;

public class FasterRcnnTests(ITestOutputHelper output)
{
    private static readonly string[] Classes = ["circle", "square", "triangle", "cross"];

    private static FasterRcnn SmallModel(ulong seed = 1) =>
        FasterRcnn.Create(new FasterRcnnConfig { Classes = Classes, AnchorSizes = [32f, 64f, 128f], ImageSize = 128 }, seed);

    private static (Tensor Images, (int, int)[] Sizes, DetectionTarget[] Targets) Batch(params float[][] boxesPerImage)
    {
        int n = boxesPerImage.Length;
        var images = Tensor.Rand(new Generator(5), n, 3, 128, 128);
        var targets = boxesPerImage.Select(b => new DetectionTarget(Tensor.FromArray(b, b.Length / 4, 4),
            Enumerable.Range(0, b.Length / 4).Select(i => 1 + i % Classes.Length).ToArray())).ToArray();
        return (images, Enumerable.Repeat((128, 128), n).ToArray(), targets);
    }

    [Fact]
    public void TrainingGivesFourFiniteLossesAndGradientsForEveryLayer()
    {
        var model = SmallModel();
        var (images, sizes, targets) = Batch([10, 20, 60, 70, 70, 30, 120, 110], [40, 40, 100, 90]);
        var losses = model.Forward(images, sizes, targets).Losses!;
        output.WriteLine(losses.ToString());
        foreach (var l in new[] { losses.RpnObjectness, losses.RpnBox, losses.Classifier, losses.BoxRegression })
            Assert.True(float.IsFinite(l.Item()) && l.Item() > 0, losses.ToString());
        // Chance level at the start: the RPN's two-way softmax near ln 2, the head's five-way near ln 5.
        Assert.InRange(losses.RpnObjectness.Item(), 0.6, 0.8);
        Assert.InRange(losses.Classifier.Item(), 1.4, 1.8);
        losses.Total.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} got no gradient");
            Assert.True(p.Grad!.ToArray().Any(v => v != 0), $"{name}'s gradient is all zero");
            Assert.True(p.Grad!.ToArray().All(float.IsFinite), $"{name}'s gradient is not finite");
        }
    }

    [Fact]
    public void TheRpnSamplesAtMost256AnchorsPerImageHalfPositiveFromSeveralAnchorTypes()
    {
        var model = SmallModel();
        var (images, sizes, targets) = Batch([10, 20, 60, 70, 70, 30, 120, 110, 5, 80, 45, 125], [40, 40, 100, 90]);
        var rpn = model.ProposeRegions(images, sizes, targets);
        int k = model.Rpn.Head.AnchorsPerLocation;
        Assert.Equal(9, k);
        Assert.Equal(8 * 8 * k, rpn.Anchors.Shape[0]);
        foreach (var s in rpn.Samples!)
        {
            Assert.True(s.Positive.Length <= 128 && s.Positive.Length > 0, $"{s.Positive.Length} positives");
            Assert.Equal(256, s.Positive.Length + s.Negative.Length);
            Assert.Empty(s.Positive.Intersect(s.Negative));
            // One network for all types: the sampled anchors come from several of the k shapes.
            Assert.True(s.Positive.Concat(s.Negative).Select(a => a % k).Distinct().Count() >= 3);
        }
        // Every positive overlaps a ground-truth box (IoU >= 0.7, or it is that box's best anchor).
        var iou = Functional.BoxIou(targets[0].Boxes, rpn.Anchors.IndexSelect(0, rpn.Samples![0].Positive)).ToArray();
        int p = rpn.Samples[0].Positive.Length;
        for (int j = 0; j < p; j++)
            Assert.True(Enumerable.Range(0, targets[0].Count).Max(g => iou[g * p + j]) > 0.3f);
    }

    [Fact]
    public void DegenerateGroundTruthAndExplodingDeltasGiveFiniteLossesAndProposals()
    {
        var model = SmallModel();
        // A zero-width box, a box wholly outside the image, an inverted box, and one good box.
        var (images, sizes, targets) = Batch([30, 30, 30, 90, 200, 200, 260, 250, 80, 80, 40, 40, 20, 20, 70, 90]);
        // Deltas far beyond exp's range: dw = dh = 500 would overflow to infinity without the clamp.
        Init(model.Rpn.Head.Deltas.Bias!, 500f);
        Init(model.RoiHeads.BoxDeltas.Bias!, 500f);
        var losses = model.Forward(images, sizes, targets).Losses!;
        Assert.True(float.IsFinite(losses.Total.Item()), losses.ToString());
        foreach (var proposals in model.LastRpnOutput!.Proposals)
            Assert.All(proposals.ToArray(), v => Assert.True(float.IsFinite(v) && v >= 0 && v <= 128));
        model.Eval();
        var detections = model.Detect(images, sizes);
        Assert.All(detections[0].Boxes.ToArray(), v => Assert.True(float.IsFinite(v)));

        // Only degenerate boxes: no positives, still finite.
        model.Train();
        var (_, _, bad) = Batch([30, 30, 30, 90, 200, 200, 260, 250]);
        var onlyBad = model.Forward(images, sizes, bad).Losses!;
        Assert.True(float.IsFinite(onlyBad.Total.Item()), onlyBad.ToString());
        Assert.Equal(0f, onlyBad.RpnBox.Item());
        Assert.Equal(0f, onlyBad.BoxRegression.Item());
    }

    private static void Init(Tensor t, float value) => t.AsSpan().Fill(value);

    [Fact]
    public void EvalModeDetectsWithinTheImageAndAModelFileRoundTrips()
    {
        var model = SmallModel();
        var (images, sizes, _) = Batch([10, 20, 60, 70]);
        sizes[0] = (100, 120);   // padded: the image is smaller than the batch
        model.Eval();
        var detections = model.Forward(images, sizes).Detections!;
        var d = detections[0];
        Assert.Equal(d.Scores.Length, d.Labels.Length);
        Assert.True(d.Scores.Length <= 100);
        var b = d.Boxes.ToArray();
        for (int i = 0; i < d.Scores.Length; i++)
        {
            Assert.InRange(b[4 * i], 0, 120);
            Assert.InRange(b[4 * i + 3], 0, 100);
            Assert.InRange(d.Labels[i], 1, Classes.Length);
        }
        for (int i = 1; i < d.Scores.Length; i++) Assert.True(d.Scores[i - 1] >= d.Scores[i]);

        using var dir = new TempDirectory();
        DetectorFile.Save(model, dir.File("model.safetensors"));
        var loaded = DetectorFile.Load(dir.File("model.safetensors"));
        Assert.Equal(Classes, loaded.Config!.Classes);
        var again = loaded.Detect(images, sizes)[0];
        Assert.Equal(d.Scores, again.Scores);
        Assert.Equal(b, again.Boxes.ToArray());
    }

    [Fact]
    public void ALoadedFileWithoutAConfigurationSaysWhatItIs()
    {
        using var dir = new TempDirectory();
        Backprop.IO.SafeTensors.Write(dir.File("x.safetensors"), new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(2) });
        var e = Assert.Throws<InvalidDataException>(() => DetectorFile.Load(dir.File("x.safetensors")));
        Assert.Contains("x.safetensors", e.Message);
        Assert.Contains("not a Backprop detector", e.Message);
    }

    [Fact]
    public void NormalizationLeavesTheBatchPaddingAtZeroTheMeanColour()
    {
        var model = SmallModel();
        var images = Tensor.Full(0.5f, 2, 3, 4, 5);
        var x = model.Normalize(images, [(2, 3), (4, 5)]).ToArray();
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 4; y++)
                for (int xx = 0; xx < 5; xx++)
                {
                    float inside = (0.5f - model.Mean[c]) / model.Std[c];
                    Assert.Equal(y < 2 && xx < 3 ? inside : 0f, x[(c * 4 + y) * 5 + xx], 5);   // image 0: padded
                    Assert.Equal(inside, x[((3 + c) * 4 + y) * 5 + xx], 5);                      // image 1: full size
                }
    }

    [Fact]
    public void HostileModelFilesGiveClearErrorsBeforeAnythingLarge()
    {
        using var dir = new TempDirectory();
        var model = SmallModel();
        string good = dir.File("good.safetensors");
        DetectorFile.Save(model, good);
        var state = Backprop.IO.SafeTensors.Read(good);
        string json = Backprop.IO.SafeTensors.ReadMetadata(good)["backprop.detection.config"];

        void Expect(string name, string config, string fragment)
        {
            string path = dir.File(name);
            Backprop.IO.SafeTensors.Write(path, state, new Dictionary<string, string> { ["backprop.detection.config"] = config });
            var e = Assert.Throws<InvalidDataException>(() => DetectorFile.Load(path));
            Assert.Contains(name, e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Expect("nullclasses.safetensors", json.Replace("\"Classes\":[\"circle\",\"square\",\"triangle\",\"cross\"]", "\"Classes\":null"), "classes");
        // A representation size that would allocate gigabytes is refused against the file's own tensors.
        Expect("huge.safetensors", json.Replace("\"RepresentationSize\":256", "\"RepresentationSize\":16000"), "roi_heads.fc7.weight");
        Expect("backbone.safetensors", json.Replace("\"Backbone\":\"small\"", "\"Backbone\":\"resnet\""), "resnet");
        Expect("garbage.safetensors", "{not json", "not valid");

        // Thresholds round-trip with the file.
        var custom = FasterRcnn.Create(new FasterRcnnConfig { Classes = Classes, ImageSize = 128,
            RoiHeads = new RoiHeadsOptions { ScoreThreshold = 0.3f, Pooler = RoiPoolerKind.Pool, BoxCoderWeights = (9f, 9f, 4f, 4f) } }, 2);
        DetectorFile.Save(custom, dir.File("custom.safetensors"));
        var loaded = DetectorFile.Load(dir.File("custom.safetensors"));
        Assert.Equal(custom.Config, loaded.Config! with { Classes = custom.Config!.Classes, AnchorSizes = custom.Config.AnchorSizes });
        Assert.Equal(RoiPoolerKind.Pool, loaded.RoiHeads.Options.Pooler);
        Assert.Equal((9f, 9f, 4f, 4f), loaded.RoiHeads.Options.BoxCoderWeights);
    }

    [Fact]
    public void ALabelOutsideTheClassesIsNamed()
    {
        var model = SmallModel();
        var (images, sizes, _) = Batch([10, 20, 60, 70]);
        var bad = new[] { new DetectionTarget(Tensor.FromArray([10f, 20, 60, 70], 1, 4), [0]) };
        var e = Assert.Throws<ArgumentException>(() => model.Forward(images, sizes, bad));
        Assert.Contains("labelled 0", e.Message);
    }

    [Fact]
    public void TopKOrdersByScoreWithTiesByIndexAndNaNLast()
    {
        Assert.Equal([3, 1, 2, 0], RegionProposalNetwork.TopK([float.NaN, 0.5f, 0.5f, 0.9f], 10));
        Assert.Equal([3, 1], RegionProposalNetwork.TopK([float.NaN, 0.5f, 0.5f, 0.9f], 2));
    }
}
