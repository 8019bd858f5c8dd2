namespace Backprop.Optim;

/// <summary>Caffe's "exp": <c>rate = baseRate * gamma ^ iter</c> (PyTorch's ExponentialLR).</summary>
public sealed class ExponentialSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate at iteration 0.</param>
    /// <param name="gamma">The factor per iteration, finite and non-negative.</param>
    public ExponentialSchedule(float baseRate, float gamma)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        Gamma = CheckFinite(gamma, nameof(gamma), nonNegative: true);
    }

    public float BaseRate { get; }
    public float Gamma { get; }

    protected override double RateAt(int iteration) => BaseRate * Math.Pow(Gamma, iteration);

    public override string ToString() => FormattableString.Invariant($"ExponentialSchedule(base={BaseRate}, gamma={Gamma})");
}
