namespace Backprop.Optim;

/// <summary>
/// Caffe's "multistep": <c>rate = baseRate * gamma ^ k</c>, where k counts the step values with
/// <c>iter &gt;= stepValue</c> (PyTorch's MultiStepLR with milestones). Caffe advances its step counter by at
/// most one per iteration; with strictly increasing step values (required here) that equals the count.
/// </summary>
public sealed class MultiStepSchedule : LearningRateSchedule
{
    private readonly int[] stepValues;

    /// <param name="baseRate">The rate at iteration 0.</param>
    /// <param name="gamma">The factor applied at each step value, finite and non-negative.</param>
    /// <param name="stepValues">The iterations at which the rate drops (Caffe's <c>stepvalue</c>): non-negative, strictly increasing.</param>
    public MultiStepSchedule(float baseRate, float gamma, IEnumerable<int> stepValues)
    {
        ArgumentNullException.ThrowIfNull(stepValues);
        BaseRate = CheckBase(baseRate, nameof(baseRate));
        Gamma = CheckFinite(gamma, nameof(gamma), nonNegative: true);
        this.stepValues = [.. stepValues];
        for (int i = 0; i < this.stepValues.Length; i++)
        {
            if (this.stepValues[i] < 0)
                throw new ArgumentException($"Step value {i} is {this.stepValues[i]}; step values must be non-negative.", nameof(stepValues));
            if (i > 0 && this.stepValues[i] <= this.stepValues[i - 1])
                throw new ArgumentException(
                    $"Step values must be strictly increasing, but step value {i} ({this.stepValues[i]}) follows {this.stepValues[i - 1]}.", nameof(stepValues));
        }
    }

    public float BaseRate { get; }
    public float Gamma { get; }

    /// <summary>The iterations at which the rate drops, increasing.</summary>
    public IReadOnlyList<int> StepValues => stepValues;

    protected override double RateAt(int iteration)
    {
        int k = 0;
        while (k < stepValues.Length && iteration >= stepValues[k]) k++;
        return BaseRate * Math.Pow(Gamma, k);
    }

    public override string ToString() =>
        FormattableString.Invariant($"MultiStepSchedule(base={BaseRate}, gamma={Gamma}, stepValues=[{string.Join(", ", stepValues)}])");
}
