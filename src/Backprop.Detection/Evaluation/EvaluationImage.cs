namespace Backprop.Detection;

/// <summary>One image's ground truth and detections as the evaluators keep them: flat (x1, y1, x2, y2) arrays.</summary>
internal sealed record EvaluationImage(float[] TruthBoxes, int[] TruthLabels, bool[] TruthDifficult, float[] Boxes, float[] Scores, int[] Labels)
{
    /// <summary>Checks and copies one image's inputs; <paramref name="evaluator"/> and <paramref name="index"/> name them in errors.</summary>
    public static EvaluationImage From(DetectionTarget groundTruth, Detections detections, int numClasses, string evaluator, int index)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(detections.Boxes);
        ArgumentNullException.ThrowIfNull(detections.Scores);
        ArgumentNullException.ThrowIfNull(detections.Labels);
        string where = $"{evaluator}.Add (image {index})";
        int d = detections.Scores.Length;
        if (detections.Boxes.Rank != 2 || detections.Boxes.Shape[1] != 4 || detections.Boxes.Shape[0] != d || detections.Labels.Length != d)
            throw new ArgumentException($"{where}: detections need boxes (D, 4), D scores and D labels; got boxes {detections.Boxes.Shape}, {d} scores, {detections.Labels.Length} labels.");
        for (int i = 0; i < d; i++)
        {
            if (detections.Labels[i] < 1 || detections.Labels[i] > numClasses)
                throw new ArgumentException($"{where}: detection {i} has label {detections.Labels[i]}, outside 1..{numClasses}.");
            if (!float.IsFinite(detections.Scores[i]))
                throw new ArgumentException($"{where}: detection {i} has score {detections.Scores[i]}.");
        }
        for (int g = 0; g < groundTruth.Count; g++)
            if (groundTruth.Labels[g] < 1 || groundTruth.Labels[g] > numClasses)
                throw new ArgumentException($"{where}: ground-truth box {g} has label {groundTruth.Labels[g]}, outside 1..{numClasses}.");
        return new EvaluationImage(groundTruth.Boxes.ToArray(), (int[])groundTruth.Labels.Clone(), (bool[])groundTruth.Difficult.Clone(),
            detections.Boxes.ToArray(), (float[])detections.Scores.Clone(), (int[])detections.Labels.Clone());
    }

    /// <summary>
    /// IoU of box <paramref name="i"/> of <paramref name="a"/> and box <paramref name="j"/> of <paramref name="b"/> on
    /// continuous coordinates: area = (x2 − x1)(y2 − y1), no +1 (py-faster-rcnn's voc_eval adds 1 to each side).
    /// 0 when the union is empty.
    /// </summary>
    public static double Iou(float[] a, int i, float[] b, int j)
    {
        double ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
        double bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
        double iw = Math.Max(Math.Min(ax2, bx2) - Math.Max(ax1, bx1), 0), ih = Math.Max(Math.Min(ay2, by2) - Math.Max(ay1, by1), 0);
        double intersection = iw * ih;
        double union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - intersection;
        return union > 0 ? intersection / union : 0;
    }
}
