namespace Backprop.Optim;

/// <summary>A constant learning rate (Caffe's "fixed"): <c>rate = baseRate</c>.</summary>
public sealed class FixedSchedule(float baseRate) : LearningRateSchedule
{
    /// <summary>The rate.</summary>
    public float BaseRate { get; } = CheckBase(baseRate, nameof(baseRate));

    protected override double RateAt(int iteration) => BaseRate;

    public override string ToString() => FormattableString.Invariant($"FixedSchedule(base={BaseRate})");
}
