namespace Backprop.Optim;

/// <summary>
/// Linear warm-up in front of another schedule: for <c>iter &lt; warmupIterations</c>,
/// <c>rate = inner(iter) * (startFactor + (1 - startFactor) * iter / warmupIterations)</c>; from then on
/// <c>rate = inner(iter)</c>. The inner schedule sees the same (unshifted) iteration, as Detectron's
/// WarmupMultiStepLR and PyTorch's LinearLR chained with another scheduler, so the rate is continuous at the end
/// of the warm-up.
/// </summary>
public sealed class LinearWarmupSchedule : LearningRateSchedule
{
    /// <param name="inner">The schedule the warm-up scales.</param>
    /// <param name="warmupIterations">Iterations of warm-up, positive.</param>
    /// <param name="startFactor">The factor at iteration 0, in [0, 1].</param>
    public LinearWarmupSchedule(LearningRateSchedule inner, int warmupIterations, float startFactor = 1f / 3)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (warmupIterations <= 0)
            throw new ArgumentOutOfRangeException(nameof(warmupIterations), warmupIterations, "The number of warm-up iterations must be positive.");
        if (!(startFactor >= 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "The start factor must be in [0, 1].");
        Inner = inner;
        WarmupIterations = warmupIterations;
        StartFactor = startFactor;
    }

    public LearningRateSchedule Inner { get; }
    public int WarmupIterations { get; }
    public float StartFactor { get; }

    protected override double RateAt(int iteration)
    {
        double rate = Inner.ExactAt(iteration);
        if (iteration >= WarmupIterations) return rate;
        double factor = StartFactor + (1.0 - StartFactor) * iteration / WarmupIterations;
        return rate * factor;
    }

    public override string ToString() =>
        FormattableString.Invariant($"LinearWarmupSchedule({Inner}, warmupIterations={WarmupIterations}, startFactor={StartFactor})");
}
