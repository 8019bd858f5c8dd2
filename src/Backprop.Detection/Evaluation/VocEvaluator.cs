namespace Backprop.Detection;

/// <summary>
/// PASCAL VOC detection AP, as py-faster-rcnn's <c>voc_eval</c> computes it. Per class, over all images added:
/// detections are ranked by decreasing score (ties keep the order they were added in); each one is matched to the
/// ground-truth box of its class in its image with the highest IoU; if that IoU ≥ the threshold and the box is
/// difficult, the detection is ignored (neither true nor false positive); if the box is not difficult and not yet
/// taken, the detection is a true positive and takes it; otherwise (IoU too low, or the box already taken: a
/// duplicate) it is a false positive. Recall is divided by the number of non-difficult boxes of the class.
/// <para>
/// Differences from voc_eval, on purpose: IoU is on continuous boxes (area = (x2 − x1)(y2 − y1), no +1 pixel), and a
/// match needs IoU ≥ the threshold, as the official VOC devkit tests it (voc_eval tests &gt;). A class with no
/// non-difficult ground truth has AP NaN and is left out of <see cref="VocResult.MeanAp"/> (voc_eval would divide by
/// zero).
/// </para>
/// </summary>
public sealed class VocEvaluator
{
    private readonly List<EvaluationImage> images = [];

    /// <param name="numClasses">C: labels run 1..C.</param>
    /// <param name="iouThreshold">Least IoU of a true positive (VOC: 0.5).</param>
    /// <param name="use07Metric">VOC2007's 11-point AP instead of the all-point area (VOC2010+).</param>
    public VocEvaluator(int numClasses, float iouThreshold = 0.5f, bool use07Metric = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (!(iouThreshold > 0 && iouThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "The IoU threshold must be in (0, 1].");
        NumClasses = numClasses;
        IouThreshold = iouThreshold;
        Use07Metric = use07Metric;
    }

    public int NumClasses { get; }
    public float IouThreshold { get; }
    public bool Use07Metric { get; }

    /// <summary>Number of images added.</summary>
    public int Count => images.Count;

    /// <summary>Adds one image's ground truth and the detector's output for it (both are copied).</summary>
    public void Add(DetectionTarget groundTruth, Detections detections) =>
        images.Add(EvaluationImage.From(groundTruth, detections, NumClasses, nameof(VocEvaluator), images.Count));

    /// <summary>AP per class and their mean over the classes that have ground truth.</summary>
    public VocResult Compute()
    {
        var ap = new double[NumClasses];
        var positives = new int[NumClasses];
        for (int c = 1; c <= NumClasses; c++)
        {
            var (recall, precision, npos) = Curve(c);
            positives[c - 1] = npos;
            ap[c - 1] = npos == 0 ? double.NaN : Use07Metric ? AveragePrecision.ElevenPoint(recall, precision) : AveragePrecision.AllPoint(recall, precision);
        }
        var counted = ap.Where(v => !double.IsNaN(v)).ToArray();
        return new VocResult(ap, positives, counted.Length == 0 ? double.NaN : counted.Average());
    }

    /// <summary>Recall and precision after each ranked detection of class <paramref name="label"/> that is not ignored.</summary>
    private (double[] Recall, double[] Precision, int Positives) Curve(int label)
    {
        int npos = 0;
        var ranked = new List<(double Score, int Image, int Detection)>();
        var taken = new bool[images.Count][];
        for (int m = 0; m < images.Count; m++)
        {
            var image = images[m];
            taken[m] = new bool[image.TruthLabels.Length];
            for (int g = 0; g < image.TruthLabels.Length; g++)
                if (image.TruthLabels[g] == label && !image.TruthDifficult[g]) npos++;
            for (int d = 0; d < image.Labels.Length; d++)
                if (image.Labels[d] == label) ranked.Add((image.Scores[d], m, d));
        }
        // A stable sort: equal scores keep image order, then detection order.
        var order = ranked.Select((r, i) => (r, i)).OrderByDescending(x => x.r.Score).ThenBy(x => x.i).Select(x => x.r).ToArray();

        var recall = new List<double>(order.Length);
        var precision = new List<double>(order.Length);
        int tp = 0, fp = 0;
        foreach (var (_, m, d) in order)
        {
            var image = images[m];
            double best = double.NegativeInfinity;
            int match = -1;
            for (int g = 0; g < image.TruthLabels.Length; g++)
            {
                if (image.TruthLabels[g] != label) continue;
                double iou = EvaluationImage.Iou(image.Boxes, d, image.TruthBoxes, g);
                if (iou > best) (best, match) = (iou, g);
            }
            if (match >= 0 && best >= IouThreshold)
            {
                // Ignored: neither a hit nor a miss. voc_eval keeps a repeated point on the curve instead, which changes no AP.
                if (image.TruthDifficult[match]) continue;
                if (!taken[m][match]) { taken[m][match] = true; tp++; }
                else fp++;
            }
            else fp++;
            recall.Add(npos == 0 ? 0 : tp / (double)npos);
            precision.Add(tp / Math.Max((double)(tp + fp), double.Epsilon));
        }
        return (recall.ToArray(), precision.ToArray(), npos);
    }
}
