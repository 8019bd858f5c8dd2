namespace Backprop.Detection;

/// <summary>
/// Average precision from a precision/recall curve (detections ranked by decreasing score, recall and precision after
/// each one), in the three ways detection benchmarks compute it.
/// </summary>
public static class AveragePrecision
{
    /// <summary>
    /// VOC2010+ (and py-faster-rcnn's default): the area under the precision envelope, where the envelope at recall r is
    /// the highest precision at any recall ≥ r; summed over the points where recall changes, with recall 0 and
    /// precision 0 appended at the ends.
    /// </summary>
    public static double AllPoint(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        Check(recall, precision);
        int n = recall.Count;
        var r = new double[n + 2];
        var p = new double[n + 2];
        r[n + 1] = 1;
        for (int i = 0; i < n; i++) (r[i + 1], p[i + 1]) = (recall[i], precision[i]);
        for (int i = n; i >= 0; i--) p[i] = Math.Max(p[i], p[i + 1]);
        double ap = 0;
        for (int i = 0; i <= n; i++)
            if (r[i + 1] != r[i]) ap += (r[i + 1] - r[i]) * p[i + 1];
        return ap;
    }

    /// <summary>
    /// VOC2007's 11-point metric: the mean over t = 0, 0.1, ..., 1 of the highest precision at recall ≥ t (0 if none).
    /// The thresholds are k · 0.1 in double, as numpy's <c>arange(0, 1.1, 0.1)</c> gives them.
    /// </summary>
    public static double ElevenPoint(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        Check(recall, precision);
        double sum = 0;
        for (int k = 0; k <= 10; k++)
        {
            double t = k * 0.1, best = 0;
            for (int i = 0; i < recall.Count; i++)
                if (recall[i] >= t) best = Math.Max(best, precision[i]);
            sum += best;
        }
        return sum / 11;
    }

    /// <summary>
    /// COCO's 101-point interpolated AP: precision made non-increasing from the right, then read at recall thresholds
    /// 0, 0.01, ..., 1 at the first rank whose recall reaches the threshold (0 when none does), and averaged. The
    /// thresholds are k · 0.01 in double (the last exactly 1), as numpy's <c>linspace(0, 1, 101)</c> gives them.
    /// </summary>
    public static double Coco101(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        Check(recall, precision);
        int n = recall.Count;
        var p = precision.ToArray();
        for (int i = n - 1; i > 0; i--) p[i - 1] = Math.Max(p[i - 1], p[i]);
        double sum = 0;
        int rank = 0;
        for (int k = 0; k <= 100; k++)
        {
            double t = k == 100 ? 1.0 : k * 0.01;
            while (rank < n && recall[rank] < t) rank++;   // recall is non-decreasing: a left-sided search
            if (rank < n) sum += p[rank];
        }
        return sum / 101;
    }

    private static void Check(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        ArgumentNullException.ThrowIfNull(recall);
        ArgumentNullException.ThrowIfNull(precision);
        if (recall.Count != precision.Count)
            throw new ArgumentException($"AveragePrecision: {recall.Count} recall values but {precision.Count} precision values.");
        for (int i = 1; i < recall.Count; i++)
            if (recall[i] < recall[i - 1])
                throw new ArgumentException($"AveragePrecision: recall must not decrease along the ranking, but recall[{i}] = {recall[i]} < recall[{i - 1}] = {recall[i - 1]}.");
    }
}
