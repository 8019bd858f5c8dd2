using System.CommandLine;
using System.Globalization;
using Backprop.Caffe.Proto;

namespace Backprop.Cli;

/// <summary>Options shared by the commands that look inside a net (filters, features, graph, summary).</summary>
internal static class VizArguments
{
    public static Option<string?> InputShape() => new("--input-shape")
    {
        Description = "Feed the net through an Input layer of this shape (N,C,H,W) instead of its data layers, whose data need not exist.",
    };

    /// <summary>Parses <c>64,1,28,28</c> (or <c>64x1x28x28</c>); null stays null.</summary>
    public static int[]? ParseShape(string? text, string option = "--input-shape")
    {
        if (text is null) return null;
        var parts = text.Split([',', 'x', ' '], StringSplitOptions.RemoveEmptyEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
                throw new ArgumentException($"{option} '{text}' is not a list of positive sizes such as 64,1,28,28.");
        if (dims.Length == 0) throw new ArgumentException($"{option} is empty; give sizes such as 64,1,28,28.");
        return dims;
    }

    public static Phase ParsePhase(string text) => text.ToUpperInvariant() switch
    {
        "TRAIN" => Phase.Train,
        "TEST" => Phase.Test,
        _ => throw new ArgumentException($"--phase must be TRAIN or TEST, got '{text}'."),
    };
}
