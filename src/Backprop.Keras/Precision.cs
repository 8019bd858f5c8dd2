using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Precision</c>: true positives / (true positives + false positives) over the epoch, an output counting as
/// positive above <see cref="Threshold"/> (0.5) and a target when non-zero. Every output value is a binary case
/// (class indices count as one-hot rows); <see cref="ClassId"/> keeps one column. 0 when nothing was predicted positive.
/// </summary>
public sealed class Precision(double threshold = 0.5, int? classId = null, string name = "precision") : KerasMetric
{
    public double Threshold { get; } = threshold is >= 0 and <= 1 ? threshold
        : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be in [0, 1].");
    public int? ClassId { get; } = classId;
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A metric needs a name.", nameof(name)) : name;

    internal override MetricState NewState() => new ConfusionState((float)Threshold, ClassId, recall: false);

    public override string ToString() => Invariant($"Precision(thresholds={Threshold})");
}

/// <summary>
/// Keras's <c>Recall</c>: true positives / (true positives + false negatives) over the epoch, with <see cref="Precision"/>'s
/// rules for what is positive. 0 when no target was positive.
/// </summary>
public sealed class Recall(double threshold = 0.5, int? classId = null, string name = "recall") : KerasMetric
{
    public double Threshold { get; } = threshold is >= 0 and <= 1 ? threshold
        : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be in [0, 1].");
    public int? ClassId { get; } = classId;
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A metric needs a name.", nameof(name)) : name;

    internal override MetricState NewState() => new ConfusionState((float)Threshold, ClassId, recall: true);

    public override string ToString() => Invariant($"Recall(thresholds={Threshold})");
}

/// <summary>True positives and the other count (false positives for precision, false negatives for recall).</summary>
internal sealed class ConfusionState(float threshold, int? classId, bool recall) : MetricState
{
    private readonly double[] totals = new double[2];   // true positives, false positives or negatives

    public override double[] Totals => totals;

    public override void Update(Tensor probabilities, Tensor? y, int[]? labels) =>
        ForEachElement(probabilities, y, labels, classId, (p, positive) =>
        {
            bool predicted = p > threshold;
            if (predicted && positive) totals[0]++;
            else if (recall ? positive : predicted) totals[1]++;
        });

    public override double Result() => totals[0] + totals[1] > 0 ? totals[0] / (totals[0] + totals[1]) : 0;
}
