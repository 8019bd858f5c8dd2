namespace Backprop.Optim;

/// <summary>
/// Caffe's "sigmoid": <c>rate = baseRate / (1 + exp(-gamma * (iter - stepSize)))</c>, half the base rate at
/// stepSize. A negative gamma makes the rate fall around stepSize, a positive one rise.
/// </summary>
public sealed class SigmoidSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate the sigmoid approaches.</param>
    /// <param name="gamma">The steepness (sign gives the direction), finite.</param>
    /// <param name="stepSize">The centre of the sigmoid (Caffe's <c>stepsize</c>), non-negative.</param>
    public SigmoidSchedule(float baseRate, float gamma, int stepSize)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        Gamma = CheckFinite(gamma, nameof(gamma));
        if (stepSize < 0) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be non-negative.");
        StepSize = stepSize;
    }

    public float BaseRate { get; }
    public float Gamma { get; }
    public int StepSize { get; }

    protected override double RateAt(int iteration) =>
        BaseRate * (1.0 / (1.0 + Math.Exp(-(double)Gamma * ((double)iteration - StepSize))));

    public override string ToString() => FormattableString.Invariant($"SigmoidSchedule(base={BaseRate}, gamma={Gamma}, stepSize={StepSize})");
}
