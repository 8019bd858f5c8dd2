using Backprop.Detection;

namespace Backprop.Tests.Detection;

public class VocEvaluatorTests
{
    internal static DetectionTarget Truth(int[] labels, bool[]? difficult, params float[] boxes) =>
        new(Tensor.FromArray(boxes, labels.Length, 4), labels, difficult);

    internal static Detections Found(float[] scores, int[] labels, params float[] boxes) =>
        new(Tensor.FromArray(boxes, scores.Length, 4), scores, labels);

    private static readonly float[] A = [0, 0, 10, 10], B = [20, 0, 30, 10], Elsewhere = [50, 50, 60, 60];

    private static float[] Concat(params float[][] boxes) => boxes.SelectMany(b => b).ToArray();

    [Fact]
    public void TwoTruthsThreeDetectionsGiveHandWorkedAp()
    {
        // Ranked: hit A (P 1, R 1/2), miss (P 1/2, R 1/2), hit B (P 2/3, R 1).
        // All-point: envelope 1 up to R 1/2, 2/3 up to R 1: AP = 1/2 + 1/2 · 2/3 = 5/6.
        // 11-point: t = 0..0.5 (6 points) give 1, t = 0.6..1 (5 points) give 2/3: AP = (6 + 10/3) / 11 = 28/33.
        var truth = Truth([1, 1], null, Concat(A, B));
        var found = Found([0.9f, 0.8f, 0.7f], [1, 1, 1], Concat(A, Elsewhere, B));
        Assert.Equal(5.0 / 6, Evaluate(truth, found, use07: false).MeanAp, 12);
        Assert.Equal(28.0 / 33, Evaluate(truth, found, use07: true).MeanAp, 12);
    }

    [Fact]
    public void ADuplicateIsAFalsePositive()
    {
        // The second detection of A ranks between the hits: the same curve as a miss there, AP 5/6 (1 if duplicates were free).
        var result = Evaluate(Truth([1, 1], null, Concat(A, B)), Found([0.9f, 0.8f, 0.7f], [1, 1, 1], Concat(A, [0, 0, 10, 9], B)), use07: false);
        Assert.Equal(5.0 / 6, result.MeanAp, 12);
    }

    [Fact]
    public void DifficultTruthIsNeitherCountedNorPenalised()
    {
        // B is difficult: two detections on it are ignored, so the hit on A alone gives AP 1 from one positive.
        var truth = Truth([1, 1], [false, true], Concat(A, B));
        var result = Evaluate(truth, Found([0.95f, 0.9f, 0.8f], [1, 1, 1], Concat(B, B, A)), use07: false);
        Assert.Equal([1], result.Positives);
        Assert.Equal(1.0, result.MeanAp, 12);
        // Without any detection on A: no hit, AP 0 (the ignored detections add no false positives either).
        Assert.Equal(0.0, Evaluate(truth, Found([0.9f], [1], B), use07: false).MeanAp, 12);
    }

    [Fact]
    public void TheBestOverlapDecidesEvenWhenItIsTaken()
    {
        // Truths A (0..10) and A' (4..14). The second detection (1..11) overlaps A by 9/11 and A' by 7/13 (both ≥ 0.5),
        // but A, its best, is taken: a false positive, as voc_eval rules. Recall 1/2 at precision 1: AP 1/2, 11-point 6/11.
        var truth = Truth([1, 1], null, Concat(A, [4, 0, 14, 10]));
        var found = Found([0.9f, 0.8f], [1, 1], Concat(A, [1, 0, 11, 10]));
        Assert.Equal(0.5, Evaluate(truth, found, use07: false).MeanAp, 12);
        Assert.Equal(6.0 / 11, Evaluate(truth, found, use07: true).MeanAp, 12);
    }

    [Fact]
    public void TheThresholdIsInclusiveOnContinuousBoxes()
    {
        // (0, 0, 10, 5) covers exactly half of A: IoU 0.5 counts; (0, 0, 10, 4.9) does not. With voc_eval's +1 pixel
        // areas the first would be 66/121 instead.
        var truth = Truth([1], null, A);
        Assert.Equal(1.0, Evaluate(truth, Found([1f], [1], 0, 0, 10, 5), use07: false).MeanAp, 12);
        Assert.Equal(0.0, Evaluate(truth, Found([1f], [1], 0, 0, 10, 4.9f), use07: false).MeanAp, 12);
        var strict = new VocEvaluator(1, iouThreshold: 0.7f);
        strict.Add(truth, Found([1f], [1], 0, 0, 10, 6));
        Assert.Equal(0.0, strict.Compute().MeanAp, 12);
    }

    [Fact]
    public void ClassesAndImagesAreScoredSeparately()
    {
        var evaluator = new VocEvaluator(3);
        // Image 0: a class-1 box at A and a class-2 box at B. Image 1: a class-1 box at B.
        evaluator.Add(Truth([1, 2], null, Concat(A, B)), Found([0.9f, 0.8f, 0.3f], [1, 2, 1], Concat(A, A, B)));
        evaluator.Add(Truth([1], null, B), Found([0.5f], [1], B));
        var result = evaluator.Compute();
        // Class 1 ranked: hit (image 0, A), hit (image 1, B), miss (image 0, B is class 2 there): AP 1.
        // Class 2: its only detection sits on A, not B: AP 0. Class 3 has no truth: NaN, left out of the mean.
        Assert.Equal(1.0, result.ClassAp[0], 12);
        Assert.Equal(0.0, result.ClassAp[1], 12);
        Assert.True(double.IsNaN(result.ClassAp[2]));
        Assert.Equal([2, 1, 0], result.Positives);
        Assert.Equal(0.5, result.MeanAp, 12);
    }

    [Fact]
    public void AddChecksLabelsAndShapes()
    {
        var evaluator = new VocEvaluator(2);
        var e = Assert.Throws<ArgumentException>(() => evaluator.Add(Truth([1], null, A), Found([0.5f], [3], A)));
        Assert.Contains("detection 0 has label 3, outside 1..2", e.Message);
        Assert.Throws<ArgumentException>(() => evaluator.Add(Truth([0], null, A), Detections.Empty()));
        Assert.Throws<ArgumentException>(() => evaluator.Add(Truth([1], null, A), new Detections(Tensor.Zeros(2, 4), [0.5f], [1])));
        Assert.Throws<ArgumentException>(() => evaluator.Add(Truth([1], null, A), Found([float.NaN], [1], A)));
        Assert.Equal(0, evaluator.Count);
    }

    [Fact]
    public void ApCurvesMatchTheirDefinitions()
    {
        // A curve with a dip: R (0.25, 0.25, 0.5, 0.75), P (1, 0.5, 2/3, 0.75).
        double[] r = [0.25, 0.25, 0.5, 0.75], p = [1, 0.5, 2.0 / 3, 0.75];
        // Envelope: 1 to R 0.25, 0.75 to R 0.75, nothing beyond: 0.25 + 0.5 · 0.75.
        Assert.Equal(0.25 + 0.5 * 0.75, AveragePrecision.AllPoint(r, p), 12);
        // 11-point: t 0..0.2 → 1 (3), t 0.3..0.7 → 0.75 (5), t 0.8..1 → 0 (3).
        Assert.Equal((3 + 5 * 0.75) / 11, AveragePrecision.ElevenPoint(r, p), 12);
        // 101-point: t 0..0.25 → 1 (26), 0.26..0.75 → 0.75 (50), beyond → 0.
        Assert.Equal((26 + 50 * 0.75) / 101, AveragePrecision.Coco101(r, p), 12);
        Assert.Equal(0.0, AveragePrecision.AllPoint([], []));
        Assert.Throws<ArgumentException>(() => AveragePrecision.AllPoint([0.5, 0.25], [1, 1]));
    }

    private static VocResult Evaluate(DetectionTarget truth, Detections found, bool use07)
    {
        var evaluator = new VocEvaluator(1, use07Metric: use07);
        evaluator.Add(truth, found);
        return evaluator.Compute();
    }
}
