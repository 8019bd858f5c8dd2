using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>AUC</c>: the area under the ROC curve over the epoch, from confusion counts at
/// <see cref="NumThresholds"/> (200) thresholds: −ε, then i/(n−1) for i = 1..n−2, then 1 + ε (ε = 1e-7), an output
/// counting as positive above a threshold and a target when non-zero. The area is a Riemann sum over the thresholds:
/// "interpolation" (trapezoids, Keras's default), "minoring" or "majoring". Every output value is a binary case
/// (Keras's multi_label=False); class indices count as one-hot rows.
/// </summary>
public sealed class AUC : KerasMetric
{
    /// <param name="numThresholds">How many thresholds, more than 1.</param>
    /// <param name="summationMethod">"interpolation", "minoring" or "majoring".</param>
    /// <param name="name">The key in the logs.</param>
    public AUC(int numThresholds = 200, string summationMethod = "interpolation", string name = "auc")
    {
        if (numThresholds < 2) throw new ArgumentOutOfRangeException(nameof(numThresholds), numThresholds, "AUC needs more than 1 threshold.");
        if (summationMethod is not ("interpolation" or "minoring" or "majoring"))
            throw new ArgumentException($"summationMethod must be \"interpolation\", \"minoring\" or \"majoring\", got \"{summationMethod}\".", nameof(summationMethod));
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        NumThresholds = numThresholds;
        SummationMethod = summationMethod;
        Name = name;
        const double epsilon = 1e-7;
        var thresholds = new float[numThresholds];
        thresholds[0] = (float)(0 - epsilon);
        for (int i = 1; i < numThresholds - 1; i++) thresholds[i] = (float)(i * 1.0 / (numThresholds - 1));
        thresholds[^1] = (float)(1 + epsilon);
        Thresholds = thresholds;
    }

    public int NumThresholds { get; }
    public string SummationMethod { get; }
    public override string Name { get; }

    /// <summary>The thresholds, ascending.</summary>
    public IReadOnlyList<float> Thresholds { get; }

    internal override MetricState NewState() => new AucState(this);

    public override string ToString() => Invariant($"AUC(num_thresholds={NumThresholds}, summation_method={SummationMethod})");

    /// <summary>
    /// Histograms, for positive and negative targets, of how many thresholds lie strictly below each output; the
    /// counts at threshold t (true positives: positives with more than t thresholds below) are their tail sums.
    /// </summary>
    private sealed class AucState(AUC metric) : MetricState
    {
        private readonly int n = metric.NumThresholds;
        private readonly double[] totals = new double[2 * (metric.NumThresholds + 1)];   // positives' histogram, then negatives'

        public override double[] Totals => totals;

        public override void Update(Tensor probabilities, Tensor? y, int[]? labels) =>
            ForEachElement(probabilities, y, labels, null, (p, positive) =>
            {
                int lo = 0, hi = n;   // count the thresholds below p (ascending, so a binary search)
                while (lo < hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (p > metric.Thresholds[mid]) lo = mid + 1;
                    else hi = mid;
                }
                totals[(positive ? 0 : n + 1) + lo]++;
            });

        public override double Result()
        {
            var tpr = new double[n];
            var fpr = new double[n];
            double allPositive = 0, allNegative = 0;
            for (int k = 0; k <= n; k++) { allPositive += totals[k]; allNegative += totals[n + 1 + k]; }
            double tp = allPositive, fp = allNegative;
            for (int t = 0; t < n; t++)
            {
                tp -= totals[t];            // outputs with exactly t thresholds below are not above threshold t
                fp -= totals[n + 1 + t];
                tpr[t] = allPositive > 0 ? tp / allPositive : 0;
                fpr[t] = allNegative > 0 ? fp / allNegative : 0;
            }
            double area = 0;
            for (int t = 0; t < n - 1; t++)
            {
                double height = metric.SummationMethod switch
                {
                    "minoring" => Math.Min(tpr[t], tpr[t + 1]),
                    "majoring" => Math.Max(tpr[t], tpr[t + 1]),
                    _ => (tpr[t] + tpr[t + 1]) / 2,
                };
                area += (fpr[t] - fpr[t + 1]) * height;
            }
            return area;
        }
    }
}
