namespace Backprop.Optim;

/// <summary>
/// Caffe's "poly": <c>rate = baseRate * (1 - iter / maxIter) ^ power</c>, falling to 0 at <c>maxIter</c>. Past
/// maxIter (where Caffe has stopped training) the rate stays at its value for maxIter, as PyTorch's PolynomialLR.
/// </summary>
public sealed class PolynomialSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate at iteration 0.</param>
    /// <param name="maxIterations">The iteration at which the rate reaches 0 (Caffe's <c>max_iter</c>), positive.</param>
    /// <param name="power">The exponent, finite and non-negative (1 is linear decay).</param>
    public PolynomialSchedule(float baseRate, int maxIterations, float power)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        if (maxIterations <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "The maximum iteration must be positive.");
        MaxIterations = maxIterations;
        Power = CheckFinite(power, nameof(power), nonNegative: true);
    }

    public float BaseRate { get; }
    public int MaxIterations { get; }
    public float Power { get; }

    protected override double RateAt(int iteration)
    {
        int iter = Math.Min(iteration, MaxIterations);
        return BaseRate * Math.Pow(1.0 - (double)iter / MaxIterations, Power);
    }

    public override string ToString() => FormattableString.Invariant($"PolynomialSchedule(base={BaseRate}, maxIterations={MaxIterations}, power={Power})");
}
