using System.CommandLine;
using Backprop.Caffe;

namespace Backprop.Cli;

/// <summary>The options every command that loads a .caffemodel shares, and how such a command reports the loading.</summary>
internal static class WeightsArguments
{
    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite-weights")
    {
        Description = "Load a .caffemodel whose weights hold NaN or infinity, with a warning, instead of refusing it.",
    };

    /// <summary>Copy lines go to stdout, warnings to stderr.</summary>
    public static WeightLoading ToConsole(bool allowNonFinite) => new()
    {
        Log = Console.WriteLine,
        Warn = Console.Error.WriteLine,
        AllowNonFinite = allowNonFinite,
    };
}
