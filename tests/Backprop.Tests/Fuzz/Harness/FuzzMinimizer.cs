using System.Diagnostics;
using System.Security.Cryptography;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>
/// Shrinks a failing input while it fails the same way (same <see cref="FuzzOutcome.Signature"/>): first drops
/// mutations one by one, then cuts the tail of the bytes in halving steps. Then saves it for the corpus.
/// </summary>
public static class FuzzMinimizer
{
    /// <summary>Time spent shrinking one failure; hangs are not shrunk (each try would take the full hang limit).</summary>
    public const int BudgetSeconds = 20;

    public static (byte[] Bytes, FuzzOutcome Outcome) Minimize(FuzzTarget target, FuzzInput input, FuzzOutcome failure)
    {
        byte[] best = input.Bytes(target);
        if (failure.Verdict is FuzzVerdict.Hang or FuzzVerdict.Crash) return (best, failure);
        var clock = Stopwatch.StartNew();
        bool InTime() => clock.Elapsed.TotalSeconds < BudgetSeconds;

        var mutations = input.Mutations.ToList();
        for (int i = mutations.Count - 1; i >= 0 && InTime(); i--)
        {
            var fewer = mutations.Where((_, j) => j != i).ToList();
            var bytes = Mutation.ApplyAll(target.Seeds.Value[input.Seed].Bytes, fewer);
            var outcome = FuzzRunner.Run(target, bytes);
            if (outcome.Signature == failure.Signature) (mutations, best, failure) = (fewer, bytes, outcome);
        }
        for (int cut = best.Length / 2; cut > 0 && InTime(); cut /= 2)
        {
            while (best.Length > cut && InTime())
            {
                var shorter = best[..^cut];
                var outcome = FuzzRunner.Run(target, shorter);
                if (outcome.Signature != failure.Signature) break;
                (best, failure) = (shorter, outcome);
            }
        }
        return (best, failure);
    }

    /// <summary>
    /// Where failing inputs are written: $BACKPROP_FUZZ_OUT, else backprop-fuzz-failures under the temp folder.
    /// </summary>
    public static string OutputDirectory =>
        Environment.GetEnvironmentVariable("BACKPROP_FUZZ_OUT") is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "backprop-fuzz-failures");

    /// <summary>Writes <paramref name="bytes"/> as OUT/&lt;target&gt;/&lt;verdict&gt;-&lt;hash&gt;.bin (the corpus layout) and returns the path.</summary>
    public static string Save(FuzzTarget target, byte[] bytes, FuzzOutcome outcome, string? directory = null)
    {
        string folder = Path.Combine(directory ?? OutputDirectory, target.Name);
        Directory.CreateDirectory(folder);
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
        string path = Path.Combine(folder, $"{outcome.Verdict.ToString().ToLowerInvariant()}-{hash}.bin");
        File.WriteAllBytes(path, bytes);
        File.WriteAllText(Path.ChangeExtension(path, ".txt"), outcome + Environment.NewLine);
        return path;
    }
}
