using System.CommandLine;
using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Cli;

/// <summary>
/// The flags the <c>caffe</c> tool takes, under their Caffe spellings too: every tutorial types <c>caffe train -solver x</c>
/// (gflags: one or two dashes, underscores), so <c>--solver</c>, <c>-solver</c>, <c>--sigint-effect</c> and
/// <c>-sigint_effect</c> are all accepted.
/// </summary>
internal static class CaffeArguments
{
    /// <summary>The names an option answers to: <paramref name="name"/> (<c>--kebab-case</c>) and Caffe's <c>-snake_case</c> and <c>--snake_case</c>.</summary>
    public static string[] Aliases(string name)
    {
        string caffe = name.TrimStart('-').Replace('-', '_');
        return caffe == name.TrimStart('-') ? ["-" + caffe] : ["-" + caffe, "--" + caffe];
    }

    /// <summary>An option named <paramref name="name"/> that Caffe's spellings of the same flag also reach.</summary>
    public static Option<T> Flag<T>(string name, string description) => new(name, Aliases(name)) { Description = description };

    /// <summary>Caffe's <c>-gpu</c>: accepted, with a note that this build computes on the CPU.</summary>
    public static Option<string?> Gpu() => Flag<string?>("--gpu", "Caffe's GPU choice (0, 0,1 or all): accepted for compatibility; this build runs on the CPU.");

    /// <summary>Prints the CPU note when <c>--gpu</c> was given; the command then goes on, on the CPU.</summary>
    public static void NoteGpu(string? gpu)
    {
        if (gpu is null) return;
        Console.Error.WriteLine($"Note: --gpu {gpu} asked for a GPU; {CaffeSolver.CpuOnlyNote}");
    }

    /// <summary>Caffe's <c>-phase</c> (TRAIN or TEST).</summary>
    public static Option<string> Phase(string fallback)
    {
        var option = Flag<string>("--phase", $"TRAIN or TEST: the net state's phase (default {fallback}).");
        option.DefaultValueFactory = _ => fallback;
        return option;
    }

    /// <summary>Caffe's <c>-level</c>: the net state's level.</summary>
    public static Option<int> Level() => Flag<int>("--level", "The net state's level (layers with min_level/max_level rules).");

    /// <summary>Caffe's <c>-stage</c>: the net state's stages, comma-separated (the option may also repeat).</summary>
    public static Option<string[]> Stage()
    {
        var option = Flag<string[]>("--stage", "The net state's stages, separated by commas.");
        option.AllowMultipleArgumentsPerToken = false;
        return option;
    }

    /// <summary>The net state the phase, level and stage flags describe.</summary>
    public static NetState State(string phase, int level, string[]? stages)
    {
        var state = new NetState
        {
            Phase = phase.ToUpperInvariant() switch
            {
                "TRAIN" => Caffe.Proto.Phase.Train,
                "TEST" => Caffe.Proto.Phase.Test,
                _ => throw new ArgumentException($"--phase must be TRAIN or TEST, got '{phase}'."),
            },
            Level = level,
        };
        foreach (var stage in stages ?? []) state.Stage.Add(stage.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return state;
    }
}
