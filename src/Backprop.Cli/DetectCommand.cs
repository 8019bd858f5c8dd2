using System.CommandLine;

namespace Backprop.Cli;

/// <summary><c>backprop detect train|eval|run|synthesize</c>: Faster R-CNN on PASCAL VOC-format folders.</summary>
public static class DetectCommand
{
    internal static Command Create() => new("detect", "Train, score and run a Faster R-CNN detector on PASCAL VOC-format data.")
    {
        DetectTrainCommand.Create(),
        DetectEvalCommand.Create(),
        DetectRunCommand.Create(),
        DetectSynthesizeCommand.Create(),
    };

    /// <summary>A comma-separated list of positive numbers, e.g. "32,64,128".</summary>
    internal static float[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || !(values[i] > 0))
                throw new ArgumentException($"{option} takes positive numbers separated by commas, got '{text}'.");
        if (values.Length == 0) throw new ArgumentException($"{option} needs at least one number.");
        return values;
    }
}
