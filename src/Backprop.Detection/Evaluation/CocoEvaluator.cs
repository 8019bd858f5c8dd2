namespace Backprop.Detection;

/// <summary>
/// COCO-style box AP (pycocotools' COCOeval, <c>iouType="bbox"</c>) on VOC-style ground truth: AP averaged over IoU
/// thresholds 0.50, 0.55, ..., 0.95 (<see cref="CocoResult.MeanAp"/>), with 101-point interpolated precision
/// (<see cref="AveragePrecision.Coco101"/>), all areas, and at most <see cref="MaxDetections"/> detections per image and
/// class (COCOeval keeps the top <c>maxDets</c> of each image for each category).
/// <para>
/// Per image, class and threshold, detections in decreasing score order each take the best still-free ground-truth box
/// with IoU ≥ the threshold (ties go to the later box, as COCOeval's loop does), preferring boxes that are not
/// difficult: difficult boxes play COCO's "ignore" role. A detection that takes a difficult box is ignored; as in
/// COCO, a difficult box is taken only once, so a second detection on it is a false positive. Detections are then
/// ranked over all images by score (stable: ties keep image order). IoU is on continuous boxes (no +1), as COCO's.
/// A class with no non-difficult ground truth is left out of the means (COCOeval's −1 entries).
/// </para>
/// </summary>
public sealed class CocoEvaluator
{
    private readonly List<EvaluationImage> images = [];

    /// <summary>The IoU thresholds, as numpy's <c>linspace(0.5, 0.95, 10)</c> computes them (0.5 + i · (0.45 / 9), the last exactly 0.95).</summary>
    public static IReadOnlyList<double> IouThresholds { get; } =
        Enumerable.Range(0, 10).Select(i => i == 9 ? 0.95 : 0.5 + i * ((0.95 - 0.5) / 9)).ToArray();

    /// <param name="numClasses">C: labels run 1..C.</param>
    /// <param name="maxDetections">Detections kept per image and class, highest scores first (COCO: 100).</param>
    public CocoEvaluator(int numClasses, int maxDetections = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDetections);
        NumClasses = numClasses;
        MaxDetections = maxDetections;
    }

    public int NumClasses { get; }
    public int MaxDetections { get; }

    /// <summary>Number of images added.</summary>
    public int Count => images.Count;

    /// <summary>Adds one image's ground truth and the detector's output for it (both are copied).</summary>
    public void Add(DetectionTarget groundTruth, Detections detections) =>
        images.Add(EvaluationImage.From(groundTruth, detections, NumClasses, nameof(CocoEvaluator), images.Count));

    /// <summary>AP per IoU threshold and class, and the means COCO reports.</summary>
    public CocoResult Compute()
    {
        int t = IouThresholds.Count;
        var ap = new double[t, NumClasses];
        for (int c = 1; c <= NumClasses; c++)
            for (int k = 0; k < t; k++) ap[k, c - 1] = ClassAp(c, IouThresholds[k]);
        return new CocoResult(ap);
    }

    /// <summary>AP of class <paramref name="label"/> at one IoU threshold; NaN when it has no non-difficult ground truth.</summary>
    private double ClassAp(int label, double threshold)
    {
        int positives = 0;
        var scored = new List<(double Score, bool Hit)>();
        foreach (var image in images)
        {
            // Ground truth of the class, non-difficult first (stable), as COCOeval sorts by its ignore flag.
            var truth = Enumerable.Range(0, image.TruthLabels.Length).Where(g => image.TruthLabels[g] == label)
                .OrderBy(g => image.TruthDifficult[g] ? 1 : 0).ToArray();
            positives += truth.Count(g => !image.TruthDifficult[g]);
            var detections = Enumerable.Range(0, image.Labels.Length).Where(d => image.Labels[d] == label)
                .OrderByDescending(d => image.Scores[d]).Take(MaxDetections).ToArray();
            var taken = new bool[truth.Length];
            foreach (int d in detections)
            {
                double best = Math.Min(threshold, 1 - 1e-10);
                int match = -1;
                for (int j = 0; j < truth.Length; j++)
                {
                    if (taken[j]) continue;
                    // Once a non-difficult box matches, the difficult ones (sorted last) cannot take the detection.
                    if (match >= 0 && !image.TruthDifficult[truth[match]] && image.TruthDifficult[truth[j]]) break;
                    double iou = EvaluationImage.Iou(image.Boxes, d, image.TruthBoxes, truth[j]);
                    if (iou < best) continue;
                    (best, match) = (iou, j);
                }
                if (match >= 0)
                {
                    taken[match] = true;
                    if (image.TruthDifficult[truth[match]]) continue;   // ignored detection
                }
                scored.Add((image.Scores[d], match >= 0));
            }
        }
        if (positives == 0) return double.NaN;

        // OrderByDescending is stable, as COCOeval's mergesort: ties keep image order, then score order within an image.
        var ranked = scored.OrderByDescending(s => s.Score).ToArray();
        var recall = new double[ranked.Length];
        var precision = new double[ranked.Length];
        int tp = 0, fp = 0;
        for (int i = 0; i < ranked.Length; i++)
        {
            if (ranked[i].Hit) tp++; else fp++;
            recall[i] = tp / (double)positives;
            precision[i] = tp / (tp + fp + Spacing1);
        }
        return AveragePrecision.Coco101(recall, precision);
    }

    /// <summary>numpy's <c>spacing(1)</c> (2^−52), which COCOeval adds to every precision denominator.</summary>
    private const double Spacing1 = 2.220446049250313e-16;
}
