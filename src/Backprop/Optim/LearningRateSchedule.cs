namespace Backprop.Optim;

/// <summary>
/// The learning rate as a function of the 0-based iteration, computed in closed form (in double, returned as
/// float), so any iteration can be asked for in any order. Use it before each step:
/// <code>optimizer.LearningRate = schedule.At(iteration);</code>
/// The Caffe policies (<c>lr_policy</c>) are <see cref="FixedSchedule"/> ("fixed"), <see cref="StepSchedule"/>
/// ("step"), <see cref="ExponentialSchedule"/> ("exp"), <see cref="InverseSchedule"/> ("inv"),
/// <see cref="MultiStepSchedule"/> ("multistep"), <see cref="PolynomialSchedule"/> ("poly") and
/// <see cref="SigmoidSchedule"/> ("sigmoid"), as Caffe's <c>SGDSolver::GetLearningRate</c>.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the 0-based <paramref name="iteration"/>.</summary>
    public float At(int iteration)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        return (float)RateAt(iteration);
    }

    /// <summary>Sets <paramref name="optimizer"/>'s learning rate to the rate for <paramref name="iteration"/>.</summary>
    public void Apply(Optimizer optimizer, int iteration)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = At(iteration);
    }

    /// <summary>The rate in double, for schedules that wrap this one.</summary>
    internal double ExactAt(int iteration) => RateAt(iteration);

    /// <summary>The rate for a non-negative iteration, in double.</summary>
    protected abstract double RateAt(int iteration);

    /// <summary>Checks that a base learning rate is finite and non-negative.</summary>
    protected static float CheckBase(float baseRate, string paramName)
    {
        if (!(baseRate >= 0) || float.IsInfinity(baseRate))
            throw new ArgumentOutOfRangeException(paramName, baseRate, "The base learning rate must be finite and non-negative.");
        return baseRate;
    }

    /// <summary>Checks that a value is finite (and, when asked, non-negative).</summary>
    protected static float CheckFinite(float value, string paramName, bool nonNegative = false)
    {
        if (!float.IsFinite(value) || (nonNegative && value < 0))
            throw new ArgumentOutOfRangeException(paramName, value, nonNegative ? $"{paramName} must be finite and non-negative." : $"{paramName} must be finite.");
        return value;
    }
}
