using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class LearningRateScheduleTests
{
    // Expected values use the float hyperparameters widened to double (0.99f, not 0.99), as Caffe reads its
    // solver fields as float; the rate is then computed in double and rounded once.
    private static void AssertRate(double expected, LearningRateSchedule schedule, int iteration)
    {
        float actual = schedule.At(iteration);
        Assert.True(Math.Abs(actual - expected) <= 2e-7 * Math.Abs(expected) + 1e-12,
            $"{schedule} at {iteration}: expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void Fixed()
    {
        var s = new FixedSchedule(0.01f);
        foreach (int it in new[] { 0, 1, 1000000 }) AssertRate(0.01, s, it);
    }

    [Fact]
    public void Step()
    {
        var s = new StepSchedule(0.1f, 0.1f, 100);
        AssertRate(0.1, s, 0);
        AssertRate(0.1, s, 99);
        AssertRate(0.1 * 0.1, s, 100);
        AssertRate(0.1 * 0.1, s, 199);
        AssertRate(0.1 * Math.Pow(0.1, 3), s, 350);
    }

    [Fact]
    public void Exponential()
    {
        var s = new ExponentialSchedule(0.5f, 0.99f);
        AssertRate(0.5, s, 0);
        AssertRate(0.5 * (double)0.99f, s, 1);
        AssertRate(0.5 * Math.Pow(0.99f, 250), s, 250);
    }

    [Fact]
    public void InverseAsInCaffesLeNetSolver()
    {
        var s = new InverseSchedule(0.01f, 1e-4f, 0.75f);
        AssertRate(0.01, s, 0);
        AssertRate(0.01 * Math.Pow(1 + (double)1e-4f * 100, -0.75), s, 100);
        AssertRate(0.01 * Math.Pow(1 + (double)1e-4f * 10000, -0.75), s, 10000);
        Assert.Equal(0.01 * Math.Pow(2.0, -0.75), s.At(10000), 1e-9); // the LeNet value: 0.01 * 2^-0.75
    }

    [Fact]
    public void MultiStepCountsStepValuesReached()
    {
        var s = new MultiStepSchedule(1f, 0.5f, [10, 20, 50]);
        AssertRate(1, s, 0);
        AssertRate(1, s, 9);
        AssertRate(0.5, s, 10);     // iter >= stepvalue counts
        AssertRate(0.5, s, 19);
        AssertRate(0.25, s, 20);
        AssertRate(0.25, s, 49);
        AssertRate(0.125, s, 50);
        AssertRate(0.125, s, 100000);
        Assert.Equal([10, 20, 50], s.StepValues);
    }

    [Fact]
    public void PolynomialFallsToZeroAtMaxIter()
    {
        var s = new PolynomialSchedule(0.01f, 1000, 0.9f);
        AssertRate(0.01, s, 0);
        AssertRate(0.01 * Math.Pow(1 - 250.0 / 1000, 0.9), s, 250);
        AssertRate(0.01 * Math.Pow(1 - 999.0 / 1000, 0.9), s, 999);
        AssertRate(0, s, 1000);
        AssertRate(0, s, 2000);
        var linear = new PolynomialSchedule(1f, 4, 1f);
        AssertRate(0.75, linear, 1);
        AssertRate(0.5, linear, 2);
    }

    [Fact]
    public void Sigmoid()
    {
        var s = new SigmoidSchedule(0.1f, -0.01f, 500);
        AssertRate(0.1 / (1 + Math.Exp((double)0.01f * (0 - 500))), s, 0);
        AssertRate(0.05, s, 500);
        AssertRate(0.1 / (1 + Math.Exp((double)0.01f * (800 - 500))), s, 800);
        var rising = new SigmoidSchedule(0.1f, 0.02f, 100);
        AssertRate(0.1 / (1 + Math.Exp(-(double)0.02f * (300 - 100))), rising, 300);
    }

    [Fact]
    public void Cosine()
    {
        var s = new CosineSchedule(0.1f, 100, 0.001f);
        AssertRate(0.1, s, 0);
        AssertRate(0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * 25 / 100)) / 2, s, 25);
        AssertRate(0.001 + (0.1 - 0.001) / 2, s, 50);
        AssertRate(0.001, s, 100);
        AssertRate(0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * 150 / 100)) / 2, s, 150);
    }

    [Fact]
    public void LinearWarmupScalesTheInnerSchedule()
    {
        var inner = new MultiStepSchedule(0.02f, 0.1f, [3, 8]);
        var s = new LinearWarmupSchedule(inner, 5, 0.001f);
        AssertRate(0.02 * 0.001, s, 0);
        AssertRate(0.02 * (0.001 + 0.999 * 2 / 5), s, 2);
        AssertRate(0.02 * 0.1 * (0.001 + 0.999 * 4 / 5), s, 4);  // the inner schedule has already stepped at 3
        AssertRate(0.02 * 0.1, s, 5);
        AssertRate(0.02 * 0.01, s, 8);
    }

    [Fact]
    public void ApplySetsTheOptimizersRate()
    {
        var opt = new Sgd([Param(W0)], 1f);
        new StepSchedule(0.1f, 0.5f, 10).Apply(opt, 25);
        Assert.Equal(0.025f, opt.LearningRate);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedSchedule(-0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedSchedule(float.PositiveInfinity));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 0.1f, 0));
        Assert.Contains("step size must be positive", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, float.NaN, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialSchedule(0.1f, -0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InverseSchedule(0.1f, 1e-4f, -1f));
        var m = Assert.Throws<ArgumentException>(() => new MultiStepSchedule(0.1f, 0.1f, [100, 50]));
        Assert.Contains("strictly increasing", m.Message);
        Assert.Throws<ArgumentException>(() => new MultiStepSchedule(0.1f, 0.1f, [10, 10]));
        Assert.Throws<ArgumentException>(() => new MultiStepSchedule(0.1f, 0.1f, [-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolynomialSchedule(0.1f, 0, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SigmoidSchedule(0.1f, 0.1f, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmupSchedule(new FixedSchedule(1f), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmupSchedule(new FixedSchedule(1f), 10, 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedSchedule(1f).At(-1));
    }
}
