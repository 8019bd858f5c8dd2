using Backprop;
using Backprop.Autograd;
using Backprop.Detection;
using Backprop.Optim;
using Backprop.Viz;

namespace Rpn;

/// <summary>What one image's 256 sampled anchors were: positives, negatives, and how many of each anchor type.</summary>
public sealed record SampleCount(int Step, string Image, int Positive, int Negative, int[] SampledPerType, int[] PositivePerType);

/// <summary>Recall of the ground truth by the top-300 proposals after a number of training steps.</summary>
public sealed record RecallPoint(int Step, double Recall);

/// <summary>The experiment's findings.</summary>
public sealed record RpnReport(int AnchorsPerLocation, IReadOnlyList<string> AnchorTypes, IReadOnlyList<SampleCount> Samples,
    IReadOnlyList<RecallPoint> Recall, IReadOnlyList<float> Losses, IReadOnlyList<string> Pictures);

/// <summary>
/// Trains a region proposal network (a small backbone and the RPN head, no second stage) on the synthetic shapes set
/// and records what it trained on: for each image of some steps, the anchor types of the 256 sampled anchors, and
/// how the top-300 proposals' recall of the ground truth grows.
/// </summary>
public static class RpnExperiment
{
    public static RpnReport Run(string dataDirectory, int trainImages, int testImages, int steps, int evaluateEvery, int batchSize,
        ulong seed, string? pictureDirectory, TextWriter log)
    {
        if (steps < 1 || evaluateEvery < 1 || batchSize < 1) throw new ArgumentException("Steps, the evaluation interval and the batch size must be positive.");
        if (!File.Exists(Path.Combine(dataDirectory, "classes.txt")))
        {
            log.WriteLine($"Writing the synthetic shapes set ({trainImages} trainval, {testImages} test images) to {dataDirectory} ...");
            SyntheticShapes.WriteVoc(dataDirectory, trainImages, testImages, seed);
        }
        var train = new VocDataset(dataDirectory, "trainval", useDifficult: false);
        var test = new VocDataset(dataDirectory, "test", train.Classes);
        var config = new FasterRcnnConfig { Backbone = "small", Classes = train.Classes, AnchorSizes = [32f, 64f, 128f], ImageSize = 224 };
        var model = FasterRcnn.Create(config, seed);
        int k = model.Rpn.Head.AnchorsPerLocation;
        var cell = model.Rpn.AnchorGenerator.CellAnchors().ToArray();
        var types = Enumerable.Range(0, k).Select(a =>
        {
            float w = cell[4 * a + 2] - cell[4 * a], h = cell[4 * a + 3] - cell[4 * a + 1];
            return FormattableString.Invariant($"{w:F0}x{h:F0}");
        }).ToArray();

        // Only the first stage learns: backbone and RPN head.
        var parameters = model.Backbone.Parameters().Concat(model.Rpn.Parameters()).ToList();
        var optimizer = new Sgd(parameters, 0.02f, momentum: 0.9f, weightDecay: 1e-4f);
        var loader = new DetectionLoader(train, batchSize, shuffle: true, flip: true, seed, config.ImageSize);
        var samples = new List<SampleCount>();
        var recall = new List<RecallPoint>();
        var losses = new List<float>();
        int step = 0;
        model.Train();
        while (step < steps)
            foreach (var batch in loader)
            {
                if (step >= steps) break;
                optimizer.LearningRate = 0.02f * Math.Min(1f, 0.05f + step / 50f);
                optimizer.ZeroGrad();
                var rpn = model.ProposeRegions(batch.Images, batch.ImageSizes, batch.Targets);
                var loss = rpn.ObjectnessLoss! + rpn.BoxLoss!;
                loss.Backward();
                optimizer.Step();
                step++;
                losses.Add(loss.Item());
                if (step == 1 || step % evaluateEvery == 0)
                    for (int i = 0; i < batch.Count; i++)
                    {
                        var s = rpn.Samples![i];
                        var sampled = new int[k];
                        var positive = new int[k];
                        foreach (int a in s.Positive) { sampled[a % k]++; positive[a % k]++; }
                        foreach (int a in s.Negative) sampled[a % k]++;
                        samples.Add(new SampleCount(step, batch.Ids[i], s.Positive.Length, s.Negative.Length, sampled, positive));
                    }
                if (step % evaluateEvery == 0 || step == steps)
                {
                    double r = DetectionTraining.RpnRecall(model, test, proposals: 300);
                    recall.Add(new RecallPoint(step, r));
                    log.WriteLine(FormattableString.Invariant($"step {step,5}: loss {losses.Skip(Math.Max(0, losses.Count - evaluateEvery)).Average():F4}, recall of the test boxes by the top-300 proposals {r:P1}"));
                    model.Train();
                }
            }

        var pictures = new List<string>();
        if (pictureDirectory is not null)
        {
            Directory.CreateDirectory(pictureDirectory);
            // The anchors at the feature map's centre, and the anchors one training image's 256 came from.
            var sample = loader.Sample(0);
            var batch = DetectionBatch.Collate([sample]);
            model.Eval();   // batch norm's running statistics; no update from this picture's pass
            RpnOutput rpn;
            using (Autograd.NoGrad()) rpn = model.ProposeRegions(batch.Images, batch.ImageSizes, batch.Targets);
            var (fh, fw) = model.Backbone.FeatureSize(batch.ImageSizes[0].Height, batch.ImageSizes[0].Width);
            int centre = ((fh / 2) * fw + fw / 2) * k;
            string anchors = Path.Combine(pictureDirectory, "rpn-anchors.png");
            AnchorPicture.Save(anchors, sample.Image, rpn.Anchors.Slice(centre, centre + k), rpn.Anchors, sample.Target, rpn.Samples![0]);
            pictures.Add(anchors);
            // The trained RPN's ten best proposals on a test image.
            var testSample = new DetectionLoader(test, 1, shuffle: false, flip: false, seed: 0, config.ImageSize).Sample(0);
            var testBatch = DetectionBatch.Collate([testSample]);
            var proposals = model.ProposeRegions(testBatch.Images, testBatch.ImageSizes);
            string proposalPicture = Path.Combine(pictureDirectory, "rpn-proposals.png");
            ProposalPicture.Save(proposalPicture, testSample.Image, proposals.Proposals[0], proposals.Scores[0], 10, testSample.Target);
            pictures.Add(proposalPicture);
        }
        return new RpnReport(k, types, samples, recall, losses, pictures);
    }
}
