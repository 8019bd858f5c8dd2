namespace Backprop.Optim;

/// <summary>
/// Caffe's "step": <c>rate = baseRate * gamma ^ floor(iter / stepSize)</c>, the rate multiplied by gamma every
/// stepSize iterations (PyTorch's StepLR).
/// </summary>
public sealed class StepSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate at iteration 0 (Caffe's <c>base_lr</c>).</param>
    /// <param name="gamma">The factor applied at each step, finite and non-negative.</param>
    /// <param name="stepSize">Iterations between steps (Caffe's <c>stepsize</c>), positive.</param>
    public StepSchedule(float baseRate, float gamma, int stepSize)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        Gamma = CheckFinite(gamma, nameof(gamma), nonNegative: true);
        if (stepSize <= 0) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be positive.");
        StepSize = stepSize;
    }

    public float BaseRate { get; }
    public float Gamma { get; }
    public int StepSize { get; }

    protected override double RateAt(int iteration) => BaseRate * Math.Pow(Gamma, iteration / StepSize);

    public override string ToString() => FormattableString.Invariant($"StepSchedule(base={BaseRate}, gamma={Gamma}, stepSize={StepSize})");
}
