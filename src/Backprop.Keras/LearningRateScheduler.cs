namespace Backprop.Keras;

/// <summary>
/// Keras's <c>LearningRateScheduler</c>: at the start of each epoch (0-based) sets the optimizer's learning rate to
/// <c>schedule(epoch, lr)</c>, lr being the current rate; a schedule of the epoch alone is accepted too.
/// </summary>
public sealed class LearningRateScheduler : Callback
{
    private readonly Func<int, double, double> schedule;

    /// <param name="schedule">The new rate from the epoch and the current rate: <c>(epoch, lr) =&gt; epoch &lt; 10 ? lr : lr * 0.9</c>.</param>
    public LearningRateScheduler(Func<int, double, double> schedule) =>
        this.schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));

    /// <param name="schedule">The rate for an epoch: <c>epoch =&gt; 0.01 * Math.Pow(0.5, epoch / 10)</c>.</param>
    public LearningRateScheduler(Func<int, double> schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        this.schedule = (epoch, _) => schedule(epoch);
    }

    public override void OnEpochBegin(int epoch)
    {
        var optimizer = Model!.Optimizer;
        double rate = schedule(epoch, optimizer.LearningRate);
        if (!(rate >= 0) || double.IsInfinity(rate))
            throw new InvalidOperationException($"LearningRateScheduler's schedule gave {rate} for epoch {epoch}; a learning rate must be finite and non-negative.");
        optimizer.LearningRate = (float)rate;
    }
}
