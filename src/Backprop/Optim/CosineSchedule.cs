namespace Backprop.Optim;

/// <summary>
/// Cosine annealing, the closed form of PyTorch's CosineAnnealingLR:
/// <c>rate = minRate + (baseRate - minRate) * (1 + cos(pi * iter / period)) / 2</c>. It reaches minRate at
/// <c>iter = period</c> and, as the closed form, rises again after (a cosine of period 2*period).
/// </summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate at iteration 0.</param>
    /// <param name="period">Iterations from baseRate down to minRate (PyTorch's <c>T_max</c>), positive.</param>
    /// <param name="minRate">The lowest rate (PyTorch's <c>eta_min</c>), finite and non-negative.</param>
    public CosineSchedule(float baseRate, int period, float minRate = 0f)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        if (period <= 0) throw new ArgumentOutOfRangeException(nameof(period), period, "The period must be positive.");
        Period = period;
        MinRate = CheckFinite(minRate, nameof(minRate), nonNegative: true);
    }

    public float BaseRate { get; }
    public int Period { get; }
    public float MinRate { get; }

    protected override double RateAt(int iteration) =>
        MinRate + ((double)BaseRate - MinRate) * (1 + Math.Cos(Math.PI * iteration / Period)) / 2;

    public override string ToString() => FormattableString.Invariant($"CosineSchedule(base={BaseRate}, period={Period}, min={MinRate})");
}
