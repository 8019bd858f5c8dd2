namespace Backprop.Keras;

/// <summary>
/// What Fit returns: per-epoch values under Keras's names (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>,
/// <c>val_accuracy</c>, ...), as Keras's <c>history.history</c>. Epochs are numbered from 0, as Keras does.
/// </summary>
public sealed class History
{
    private readonly Dictionary<string, List<double>> values = new(StringComparer.Ordinal);
    private readonly List<string> order = [];

    /// <summary>The epochs run (0-based).</summary>
    public List<int> Epochs { get; } = [];

    /// <summary>Every series, by Keras name, in the order first logged.</summary>
    public IReadOnlyDictionary<string, List<double>> Values => values;

    /// <summary>The names logged, in order (loss, metrics, then val_ ones).</summary>
    public IReadOnlyList<string> Keys => order;

    /// <summary>A series by Keras name, e.g. <c>history["val_loss"]</c>.</summary>
    public IReadOnlyList<double> this[string key] => values.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"History has no '{key}'; it has {string.Join(", ", order)}.");

    public IReadOnlyList<double> Loss => this["loss"];
    public IReadOnlyList<double> Accuracy => this["accuracy"];
    public IReadOnlyList<double> ValLoss => this["val_loss"];
    public IReadOnlyList<double> ValAccuracy => this["val_accuracy"];

    internal void Append(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        Epochs.Add(epoch);
        foreach (var (key, value) in logs)
        {
            if (!values.TryGetValue(key, out var list))
            {
                values[key] = list = [];
                order.Add(key);
            }
            list.Add(value);
        }
    }
}
