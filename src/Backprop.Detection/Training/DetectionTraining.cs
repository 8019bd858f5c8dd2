using System.Diagnostics;
using Backprop.Optim;

namespace Backprop.Detection;

/// <summary>Trains a <see cref="FasterRcnn"/> on a VOC-format dataset and scores it (mAP, RPN recall).</summary>
public static class DetectionTraining
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="data"/>. <paramref name="afterEpoch"/> runs after each epoch
    /// (1-based), e.g. to evaluate; the model is back in training mode afterwards. When <paramref name="cancellation"/>
    /// is cancelled, training stops at the end of the current iteration and returns normally (no exception, no
    /// <paramref name="afterEpoch"/> for the partial epoch), the model keeping the weights it has; returns the
    /// number of iterations run.
    /// </summary>
    public static int Train(FasterRcnn model, VocDataset data, DetectionTrainingOptions? options = null,
        IProgress<DetectionProgress>? progress = null, Action<int>? afterEpoch = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new DetectionTrainingOptions();
        if (data.Count == 0) throw new ArgumentException("The training set is empty.");
        var loader = new DetectionLoader(data, options.BatchSize, shuffle: true, flip: options.Flip, options.Seed, ImageSize(model));
        int perEpoch = (data.Count + options.BatchSize - 1) / options.BatchSize;
        int iterations = perEpoch * options.Epochs;
        var optimizer = new Sgd(model.Parameters().Where(p => p.RequiresGrad), options.LearningRate, options.Momentum, options.WeightDecay);
        int decayAt = (int)Math.Round(iterations * options.DecayAt);
        model.Train();
        int iteration = 0;
        var clock = new Stopwatch();
        for (int epoch = 1; epoch <= options.Epochs && !cancellation.IsCancellationRequested; epoch++)
        {
            // A step's time counts its batch's loading too (decoding is cached after the first epoch).
            using var batches = loader.GetEnumerator();
            while (!cancellation.IsCancellationRequested)
            {
                clock.Restart();
                if (!batches.MoveNext()) break;
                var batch = batches.Current;
                float rate = options.LearningRate * (iteration < decayAt ? 1f : 0.1f);
                if (iteration < options.WarmupIterations) rate *= 0.001f + 0.999f * iteration / options.WarmupIterations;
                optimizer.LearningRate = rate;
                optimizer.ZeroGrad();
                var losses = model.Forward(batch.Images, batch.ImageSizes, batch.Targets).Losses!;
                var total = losses.Total;
                if (!float.IsFinite(total.Item()))
                    throw new InvalidOperationException($"The detection loss became {total.Item()} at iteration {iteration + 1} (epoch {epoch}): {losses}. Lower the learning rate.");
                total.Backward();
                optimizer.Step();
                double seconds = clock.Elapsed.TotalSeconds;
                iteration++;
                progress?.Report(new DetectionProgress(iteration, iterations, (double)iteration / perEpoch, rate,
                    losses.RpnObjectness.Item(), losses.RpnBox.Item(), losses.Classifier.Item(), losses.BoxRegression.Item(),
                    seconds, batch.Images.Shape[0] / seconds));
            }
            if (cancellation.IsCancellationRequested) break;
            afterEpoch?.Invoke(epoch);
            model.Train();
        }
        return iteration;
    }

    /// <summary>
    /// Detections for every image of <paramref name="data"/>, in eval mode, each with its ground truth — both in the
    /// coordinates of the image as the network saw it (scaled to the model's <see cref="FasterRcnnConfig.ImageSize"/>).
    /// </summary>
    public static IReadOnlyList<(DetectionTarget Truth, Detections Detections)> Detect(FasterRcnn model, VocDataset data, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        model.Eval();
        var all = new List<(DetectionTarget, Detections)>(data.Count);
        foreach (var batch in new DetectionLoader(data, batchSize, shuffle: false, flip: false, seed: 0, ImageSize(model)))
        {
            var detections = model.Detect(batch.Images, batch.ImageSizes);
            for (int i = 0; i < batch.Count; i++) all.Add((batch.Targets[i], detections[i]));
        }
        return all;
    }

    /// <summary>VOC average precision per class and their mean at IoU 0.5 (or <paramref name="iouThreshold"/>).</summary>
    public static VocResult Evaluate(FasterRcnn model, VocDataset data, int batchSize = 8, float iouThreshold = 0.5f, bool use07Metric = false)
    {
        var evaluator = new VocEvaluator(data.Classes.Count, iouThreshold, use07Metric);
        foreach (var (truth, detections) in Detect(model, data, batchSize)) evaluator.Add(truth, detections);
        return evaluator.Compute();
    }

    private static int ImageSize(FasterRcnn model) => model.Config?.ImageSize ?? 0;

    /// <summary>
    /// The fraction of ground-truth boxes (not difficult) that one of the RPN's top <paramref name="proposals"/> proposals
    /// covers at IoU ≥ <paramref name="iouThreshold"/>, in eval mode.
    /// </summary>
    public static double RpnRecall(FasterRcnn model, VocDataset data, int proposals = 300, float iouThreshold = 0.5f, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        model.Eval();
        int found = 0, total = 0;
        foreach (var batch in new DetectionLoader(data, batchSize, shuffle: false, flip: false, seed: 0, ImageSize(model)))
        {
            var rpn = model.ProposeRegions(batch.Images, batch.ImageSizes);
            for (int i = 0; i < batch.Targets.Count; i++)
            {
                var target = batch.Targets[i];
                var boxes = rpn.Proposals[i];
                if (boxes.Shape[0] > proposals) boxes = boxes.Slice(0, proposals);
                var iou = target.Count == 0 || boxes.Shape[0] == 0 ? null : Functional.BoxIou(target.Boxes, boxes).ToArray();
                for (int g = 0; g < target.Count; g++)
                {
                    if (target.Difficult[g]) continue;
                    total++;
                    if (iou is null) continue;
                    for (int p = 0; p < boxes.Shape[0]; p++)
                        if (iou[g * boxes.Shape[0] + p] >= iouThreshold) { found++; break; }
                }
            }
        }
        return total == 0 ? double.NaN : (double)found / total;
    }
}
