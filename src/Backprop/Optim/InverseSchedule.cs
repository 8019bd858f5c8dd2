namespace Backprop.Optim;

/// <summary>
/// Caffe's "inv": <c>rate = baseRate * (1 + gamma * iter) ^ (-power)</c>. Caffe's LeNet solver uses
/// base 0.01, gamma 1e-4, power 0.75.
/// </summary>
public sealed class InverseSchedule : LearningRateSchedule
{
    /// <param name="baseRate">The rate at iteration 0.</param>
    /// <param name="gamma">How fast the rate falls, finite and non-negative.</param>
    /// <param name="power">The exponent, finite and non-negative.</param>
    public InverseSchedule(float baseRate, float gamma, float power)
    {
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        Gamma = CheckFinite(gamma, nameof(gamma), nonNegative: true);
        Power = CheckFinite(power, nameof(power), nonNegative: true);
    }

    public float BaseRate { get; }
    public float Gamma { get; }
    public float Power { get; }

    protected override double RateAt(int iteration) => BaseRate * Math.Pow(1 + (double)Gamma * iteration, -(double)Power);

    public override string ToString() => FormattableString.Invariant($"InverseSchedule(base={BaseRate}, gamma={Gamma}, power={Power})");
}
