using System.Globalization;
using System.Text.RegularExpressions;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>ModelCheckpoint</c>: saves the model (<see cref="Sequential.Save"/>, or only its weights) at the end of
/// every epoch, or with <see cref="SaveBestOnly"/> only when <see cref="Monitor"/> improves. The path may hold
/// Python-style fields filled from the epoch (from 1) and the logs: <c>ckpt-{epoch:02d}-{val_loss:.2f}.safetensors</c>.
/// Files are written atomically.
/// </summary>
public sealed partial class ModelCheckpoint : Callback
{
    private double best;
    private readonly bool maximize;

    public ModelCheckpoint(string filePath, string monitor = "val_loss", bool saveBestOnly = false, bool saveWeightsOnly = false, string mode = "auto")
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        FilePath = filePath;
        Monitor = monitor;
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        maximize = Maximizes(monitor, mode);
    }

    public string FilePath { get; }
    public string Monitor { get; }
    public bool SaveBestOnly { get; }
    public bool SaveWeightsOnly { get; }

    /// <summary>Paths written, in order.</summary>
    public List<string> Saved { get; } = [];

    /// <summary>Writes files: rank 0 alone runs it in a data-parallel Fit.</summary>
    public override bool RootRankOnly => true;

    public override void OnTrainBegin() => best = maximize ? double.NegativeInfinity : double.PositiveInfinity;

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (SaveBestOnly)
        {
            double current = Monitored(logs, Monitor, "ModelCheckpoint");
            if (!(maximize ? current > best : current < best)) return;
            best = current;
        }
        string path = FormatPath(FilePath, epoch, logs);
        if (SaveWeightsOnly) Model!.SaveWeights(path);
        else Model!.Save(path);
        Saved.Add(path);
    }

    [GeneratedRegex(@"\{(\w+)(?::([^}]*))?\}")]
    private static partial Regex Field();

    /// <summary>Fills <c>{epoch}</c>, <c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>-style fields.</summary>
    internal static string FormatPath(string pattern, int epoch, IReadOnlyDictionary<string, double> logs) =>
        Field().Replace(pattern, m =>
        {
            string key = m.Groups[1].Value, spec = m.Groups[2].Value;
            double value = key == "epoch" ? epoch + 1
                : logs.TryGetValue(key, out double v) ? v
                : throw new ArgumentException($"ModelCheckpoint path '{pattern}' names '{key}', which is not logged; logged: epoch, {string.Join(", ", logs.Keys)}.");
            if (spec.EndsWith('d'))
            {
                string w = spec[..^1];
                string digits = ((long)value).ToString(CultureInfo.InvariantCulture);
                return digits.PadLeft(int.TryParse(w, out int width) ? width : 0, w.StartsWith('0') ? '0' : ' ');
            }
            if (spec.EndsWith('f') && spec.StartsWith('.') && int.TryParse(spec[1..^1], out int places))
                return value.ToString("F" + places, CultureInfo.InvariantCulture);
            return key == "epoch" ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
        });
}
