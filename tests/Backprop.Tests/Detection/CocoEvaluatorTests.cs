using Backprop.Detection;
using static Backprop.Tests.Detection.VocEvaluatorTests;

namespace Backprop.Tests.Detection;

public class CocoEvaluatorTests
{
    private static readonly float[] A = [0, 0, 10, 10], B = [20, 0, 30, 10], Elsewhere = [50, 50, 60, 60];

    private static float[] Concat(params float[][] boxes) => boxes.SelectMany(b => b).ToArray();

    private static CocoResult Evaluate(DetectionTarget truth, Detections found, int maxDetections = 100)
    {
        var evaluator = new CocoEvaluator(1, maxDetections);
        evaluator.Add(truth, found);
        return evaluator.Compute();
    }

    [Fact]
    public void ThresholdsAreNumpysLinspace()
    {
        Assert.Equal([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95], CocoEvaluator.IouThresholds);
    }

    [Fact]
    public void OneDetectionAtIou072CountsForHalfTheThresholds()
    {
        // IoU 0.72: a hit for 0.50 .. 0.70 (5 thresholds, AP 1), a miss for 0.75 .. 0.95 (AP 0).
        var result = Evaluate(Truth([1], null, A), Found([0.9f], [1], 0, 0, 10, 7.2f));
        Assert.Equal(0.5, result.MeanAp, 12);
        Assert.Equal(1.0, result.Ap50, 12);
        Assert.Equal(0.0, result.Ap75, 12);
    }

    [Fact]
    public void TwoTruthsThreeDetectionsGiveTheHandWorked101PointAp()
    {
        // Ranked hit, miss, hit: recall (1/2, 1/2, 1), precision (1, 1/2, 2/3), envelope (1, 2/3, 2/3).
        // Recall thresholds 0, 0.01, ..., 0.50 (51) read precision 1; 0.51 .. 1 (50) read 2/3. Exact boxes: every IoU threshold alike.
        // COCOeval's precision denominators carry + 2^-52, hence the 1e-12 tolerance.
        var result = Evaluate(Truth([1, 1], null, Concat(A, B)), Found([0.9f, 0.8f, 0.7f], [1, 1, 1], Concat(A, Elsewhere, B)));
        double expected = (51 + 50 * (2.0 / 3)) / 101;
        Assert.Equal(expected, result.MeanAp, 12);
        Assert.Equal(expected, result.ClassAp[0], 12);
    }

    [Fact]
    public void ADifficultBoxAbsorbsOneDetectionAndFlagsASecond()
    {
        // B is difficult (COCO's ignore). The first detection on B is ignored; B cannot be taken twice, so the second is
        // a false positive (VOC would ignore both); then A is hit: recall (0, 1), precision (0, 1/2), AP 1/2.
        var truth = Truth([1, 1], [false, true], Concat(A, B));
        var result = Evaluate(truth, Found([0.95f, 0.9f, 0.8f], [1, 1, 1], Concat(B, B, A)));
        Assert.Equal(0.5, result.MeanAp, 12);
        var voc = new VocEvaluator(1);
        voc.Add(truth, Found([0.95f, 0.9f, 0.8f], [1, 1, 1], Concat(B, B, A)));
        Assert.Equal(1.0, voc.Compute().MeanAp, 12);
    }

    [Fact]
    public void ANonDifficultMatchIsPreferredOverABetterDifficultOne()
    {
        // The detection equals the difficult box D (IoU 1) and overlaps A = (0, 0, 10, 7.8) by 0.78. Up to 0.75 it takes
        // A (6 thresholds, AP 1); from 0.80 only D is good enough, so it is ignored and A is missed (AP 0): mean 0.6.
        var truth = Truth([1, 1], [true, false], Concat(A, [0, 0, 10, 7.8f]));
        Assert.Equal(0.6, Evaluate(truth, Found([0.9f], [1], A)).MeanAp, 12);
    }

    [Fact]
    public void OnlyTheTopDetectionsPerImageAndClassCount()
    {
        // Miss at 0.9, hit at 0.8: AP 1/2 with both; with one detection kept only the miss remains: AP 0.
        var truth = Truth([1], null, A);
        var found = Found([0.8f, 0.9f], [1, 1], Concat(A, Elsewhere));
        Assert.Equal(0.5, Evaluate(truth, found).MeanAp, 12);
        Assert.Equal(0.0, Evaluate(truth, found, maxDetections: 1).MeanAp, 12);
    }

    [Fact]
    public void ClassesWithoutTruthAreLeftOutOfTheMean()
    {
        var evaluator = new CocoEvaluator(2);
        evaluator.Add(Truth([1], null, A), Found([0.9f, 0.8f], [1, 2], Concat(A, B)));
        var result = evaluator.Compute();
        Assert.Equal(1.0, result.MeanAp, 12);
        Assert.True(double.IsNaN(result.ClassAp[1]));
        Assert.True(double.IsNaN(result.Ap(0, 2)));
    }
}
