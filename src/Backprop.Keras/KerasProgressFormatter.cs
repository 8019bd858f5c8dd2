using System.Globalization;
using System.Text;

namespace Backprop.Keras;

/// <summary>
/// Renders <see cref="EpochProgress"/> as Keras's progress bar does:
/// <code>
/// Epoch 1/10
/// 12/32 [=======>......................] - ETA: 1s - loss: 0.6931 - accuracy: 0.5000
/// 32/32 [==============================] - 1s 5ms/step - loss: 0.6931 - accuracy: 0.5000 - val_loss: 0.6900 - val_accuracy: 0.5200
/// </code>
/// A console shows batch lines in place (carriage return) and ends the epoch's line with a newline;
/// <see cref="ToWriter"/> does that for any <see cref="TextWriter"/> the caller gives.
/// </summary>
public static class KerasProgressFormatter
{
    private const int BarWidth = 30;

    /// <summary>The line for one record: the epoch header, a batch's bar with ETA, or the epoch's final bar with timing.</summary>
    public static string Format(EpochProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (progress.Kind == ProgressKind.EpochBegin) return $"Epoch {progress.Epoch}/{progress.Epochs}";
        var sb = new StringBuilder();
        sb.Append(Bar(progress.Step, progress.Steps));
        double seconds = progress.Elapsed.TotalSeconds;
        if (progress.Kind == ProgressKind.Batch)
        {
            double perStep = progress.Step > 0 ? seconds / progress.Step : 0;
            sb.Append(" - ETA: ").Append(Eta(perStep * (progress.Steps - progress.Step)));
        }
        else
        {
            sb.Append(" - ").Append(Invariant("{0:0}s", seconds)).Append(' ').Append(PerStep(progress.Steps > 0 ? seconds / progress.Steps : 0));
        }
        sb.Append(LogText(progress.Logs));
        return sb.ToString();
    }

    /// <summary>The one line Keras prints per epoch with verbose=2: <c>32/32 - 1s - 5ms/step - loss: ...</c> (null for other records).</summary>
    public static string? FormatEpochLine(EpochProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (progress.Kind != ProgressKind.EpochEnd) return null;
        double seconds = progress.Elapsed.TotalSeconds;
        return $"{progress.Steps}/{progress.Steps} - {Invariant("{0:0}s", seconds)} - {PerStep(progress.Steps > 0 ? seconds / progress.Steps : 0)}{LogText(progress.Logs)}";
    }

    /// <summary>
    /// A synchronous progress sink writing to <paramref name="writer"/>: verbose 1 draws the bar (batch lines
    /// rewritten in place with '\r'), verbose 2 writes one line per epoch, 0 nothing.
    /// </summary>
    public static IProgress<EpochProgress> ToWriter(TextWriter writer, int verbose = 1)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return new WriterProgress(writer, verbose);
    }

    /// <summary><c>12/32 [=======>......................]</c> as Keras draws it.</summary>
    public static string Bar(int current, int target)
    {
        int digits = target.ToString(CultureInfo.InvariantCulture).Length;
        var sb = new StringBuilder();
        sb.Append(current.ToString(CultureInfo.InvariantCulture).PadLeft(digits)).Append('/').Append(target).Append(" [");
        int width = target > 0 ? (int)(BarWidth * (double)current / target) : BarWidth;
        if (width > 0)
        {
            sb.Append('=', width - 1);
            sb.Append(current < target ? '>' : '=');
        }
        sb.Append('.', BarWidth - width).Append(']');
        return sb.ToString();
    }

    /// <summary><c> - loss: 0.6931 - accuracy: 0.5000</c>: four decimals, or scientific notation below 1e-3 as Keras.</summary>
    public static string LogText(IReadOnlyDictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var sb = new StringBuilder();
        foreach (var (key, value) in logs)
            sb.Append(" - ").Append(key).Append(": ").Append(Math.Abs(value) > 1e-3 || value == 0
                ? value.ToString("0.0000", CultureInfo.InvariantCulture)
                : value.ToString("0.0000e+00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string PerStep(double seconds) =>
        seconds >= 1 || seconds == 0 ? Invariant("{0:0}s/step", seconds)
        : seconds >= 1e-3 ? Invariant("{0:0}ms/step", seconds * 1e3)
        : Invariant("{0:0}us/step", seconds * 1e6);

    private static string Eta(double seconds)
    {
        int s = (int)Math.Round(seconds);
        return s > 3600 ? $"{s / 3600}:{s % 3600 / 60:00}:{s % 60:00}" : s > 60 ? $"{s / 60}:{s % 60:00}" : $"{s}s";
    }

    private static string Invariant(string format, double value) => string.Format(CultureInfo.InvariantCulture, format, value);

    private sealed class WriterProgress(TextWriter writer, int verbose) : IProgress<EpochProgress>
    {
        private int lastLength;

        public void Report(EpochProgress value)
        {
            if (verbose <= 0) return;
            if (value.Kind == ProgressKind.EpochBegin)
            {
                writer.WriteLine(Format(value));
                lastLength = 0;
            }
            else if (verbose == 2)
            {
                if (FormatEpochLine(value) is { } line) writer.WriteLine(line);
            }
            else
            {
                string line = Format(value);
                writer.Write('\r' + line + (line.Length < lastLength ? new string(' ', lastLength - line.Length) : ""));
                lastLength = line.Length;
                if (value.Kind == ProgressKind.EpochEnd) writer.WriteLine();
            }
            writer.Flush();
        }
    }
}
