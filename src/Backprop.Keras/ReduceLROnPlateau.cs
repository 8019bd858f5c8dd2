namespace Backprop.Keras;

/// <summary>
/// Keras's <c>ReduceLROnPlateau</c>: when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, multiplies the optimizer's learning rate by <see cref="Factor"/> (never below
/// <see cref="MinLearningRate"/>), then waits <see cref="Cooldown"/> epochs before counting again. Mode "auto"
/// maximizes accuracies and minimizes everything else, as Keras.
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly bool maximize;
    private double best;
    private int wait, cooldownCounter;

    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, string mode = "auto",
        double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau does not support a factor >= 1 (or negative).");
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be non-negative.");
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "cooldown must be non-negative.");
        if (!(minLearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "minLearningRate must be non-negative.");
        Monitor = monitor;
        Factor = factor;
        Patience = patience;
        maximize = Maximizes(monitor, mode);
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
    }

    public string Monitor { get; }
    public double Factor { get; }
    public int Patience { get; }
    public double MinDelta { get; }
    public int Cooldown { get; }
    public double MinLearningRate { get; }

    public override void OnTrainBegin()
    {
        best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        wait = 0;
        cooldownCounter = 0;
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double current = Monitored(logs, Monitor, "ReduceLROnPlateau");
        if (cooldownCounter > 0)
        {
            cooldownCounter--;
            wait = 0;
        }
        if (maximize ? current > best + MinDelta : current < best - MinDelta)
        {
            best = current;
            wait = 0;
            return;
        }
        if (cooldownCounter > 0 || ++wait < Patience) return;
        var optimizer = Model!.Optimizer;
        float old = optimizer.LearningRate;
        if (old > (float)MinLearningRate)
        {
            optimizer.LearningRate = (float)Math.Max(old * Factor, MinLearningRate);
            cooldownCounter = Cooldown;
            wait = 0;
        }
    }
}
