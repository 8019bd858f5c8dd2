namespace Backprop.Detection;

/// <summary>
/// COCO-style AP: <see cref="Ap"/>[t, k] is the AP of label k + 1 at IoU threshold
/// <see cref="CocoEvaluator.IouThresholds"/>[t] (NaN for a class without non-difficult ground truth). The means leave
/// NaN entries out, as COCOeval leaves out its −1 entries.
/// </summary>
public sealed class CocoResult
{
    private readonly double[,] ap;

    public CocoResult(double[,] ap)
    {
        ArgumentNullException.ThrowIfNull(ap);
        this.ap = (double[,])ap.Clone();
        MeanAp = Mean(Enumerable.Range(0, ap.GetLength(0)));
        Ap50 = Mean([0]);
        Ap75 = Mean([5]);
    }

    /// <summary>AP at threshold index <paramref name="threshold"/> for label <paramref name="label"/> (1..C).</summary>
    public double Ap(int threshold, int label) => ap[threshold, label - 1];

    /// <summary>AP@[.5:.95]: the mean over thresholds and classes.</summary>
    public double MeanAp { get; }

    /// <summary>AP at IoU 0.5 averaged over classes.</summary>
    public double Ap50 { get; }

    /// <summary>AP at IoU 0.75 averaged over classes.</summary>
    public double Ap75 { get; }

    /// <summary>AP of label k + 1 averaged over the ten thresholds (NaN without ground truth).</summary>
    public IReadOnlyList<double> ClassAp => Enumerable.Range(0, ap.GetLength(1))
        .Select(k => Enumerable.Range(0, ap.GetLength(0)).Average(t => ap[t, k])).ToArray();

    private double Mean(IEnumerable<int> thresholds)
    {
        double sum = 0;
        int n = 0;
        foreach (int t in thresholds)
            for (int k = 0; k < ap.GetLength(1); k++)
                if (!double.IsNaN(ap[t, k])) { sum += ap[t, k]; n++; }
        return n == 0 ? double.NaN : sum / n;
    }

    public override string ToString() => $"AP@[.5:.95] {MeanAp:F4}, AP50 {Ap50:F4}, AP75 {Ap75:F4}";
}
