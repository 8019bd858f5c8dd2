namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Callback</c>: hooks Fit calls around training, epochs (numbered from 0, as Keras) and batches.
/// <see cref="Model"/> is set before training starts; set <c>Model.StopTraining</c> to end after this epoch.
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained (set by Fit).</summary>
    public Sequential? Model { get; internal set; }

    /// <summary>
    /// True for callbacks that write files or print (checkpoints, CSV logs): in a data-parallel Fit only rank 0 runs
    /// them. The others run on every rank, with the same averaged logs, so decisions such as early stopping agree.
    /// </summary>
    public virtual bool RootRankOnly => false;

    public virtual void OnTrainBegin() { }

    public virtual void OnTrainEnd(IReadOnlyDictionary<string, double> logs) { }

    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>After an epoch and its validation: <paramref name="logs"/> holds loss, metrics and val_ values.</summary>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>After a training batch: running averages over the epoch so far.</summary>
    public virtual void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>Keras's "auto" mode: maximize accuracies (names containing "acc"), minimize everything else.</summary>
    private protected static bool Maximizes(string monitor, string mode) => mode switch
    {
        "max" => true,
        "min" => false,
        "auto" => monitor.Contains("acc", StringComparison.Ordinal),
        _ => throw new ArgumentException($"mode must be \"auto\", \"min\" or \"max\", got \"{mode}\"."),
    };

    private protected static double Monitored(IReadOnlyDictionary<string, double> logs, string monitor, string who) =>
        logs.TryGetValue(monitor, out double v) ? v
        : throw new InvalidOperationException($"{who} monitors '{monitor}', which Fit does not log; it logs {string.Join(", ", logs.Keys)}." +
            (monitor.StartsWith("val_", StringComparison.Ordinal) ? " Pass validationSplit or validationData to get val_ values." : ""));
}
