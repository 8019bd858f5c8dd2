namespace Backprop.Keras;

/// <summary>
/// Keras's <c>EarlyStopping</c>: stops Fit once <see cref="Monitor"/> has not improved by more than
/// <see cref="MinDelta"/> for <see cref="Patience"/> epochs in a row (never after the first epoch). With
/// <see cref="RestoreBestWeights"/> the model gets back the weights of its best epoch when training ends.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private int wait;
    private double best;
    private Dictionary<string, Tensor>? bestWeights;
    private readonly bool maximize;

    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, string mode = "auto",
        bool restoreBestWeights = false, double? baseline = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be non-negative.");
        Monitor = monitor;
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        maximize = Maximizes(monitor, mode);
        RestoreBestWeights = restoreBestWeights;
        Baseline = baseline;
    }

    public string Monitor { get; }
    public double MinDelta { get; }
    public int Patience { get; }
    public bool RestoreBestWeights { get; }
    public double? Baseline { get; }

    /// <summary>The epoch (0-based) after which training stopped, or 0 when it ran to the end.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The epoch (0-based) with the best monitored value.</summary>
    public int BestEpoch { get; private set; }

    public override void OnTrainBegin()
    {
        wait = 0;
        StoppedEpoch = 0;
        BestEpoch = 0;
        best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        bestWeights = null;
    }

    private bool Improves(double current, double reference) =>
        maximize ? current - MinDelta > reference : current + MinDelta < reference;

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double current = Monitored(logs, Monitor, "EarlyStopping");
        wait++;
        if (Improves(current, best))
        {
            best = current;
            BestEpoch = epoch;
            if (RestoreBestWeights) bestWeights = Model!.Network.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Detach().Clone());
            if (Baseline is null || Improves(current, Baseline.Value)) wait = 0;
            return;
        }
        if (wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Model!.StopTraining = true;
        }
    }

    public override void OnTrainEnd(IReadOnlyDictionary<string, double> logs)
    {
        if (RestoreBestWeights && bestWeights is not null) Model!.Network.LoadStateDict(bestWeights);
    }
}
