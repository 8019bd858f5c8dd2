using System.Diagnostics;
using Backprop.Tests.Fuzz.Harness;
using Xunit.Abstractions;

namespace Backprop.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of every reader: mutated copies of valid files (bit flips, interesting values, huge
/// varints, truncations, duplicated chunks, bad UTF-8, deep nesting, long numbers) must be read or refused
/// cleanly, naming the file, within <see cref="FuzzRunner.HangSeconds"/> s and <see cref="FuzzRunner.AllocationLimit"/>
/// bytes. A failure is shrunk, saved for the corpus, and its path given in the message.
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    /// <summary>
    /// Seconds of fuzzing per target in CI: 14 targets run, so about a minute in all. Set BACKPROP_FUZZ_SECONDS
    /// to fuzz longer locally (the inputs are the same for the same seconds on the same machine's speed; the
    /// first N inputs are always the same).
    /// </summary>
    public const double DefaultSecondsPerTarget = 4;

    private static double SecondsPerTarget =>
        double.TryParse(Environment.GetEnvironmentVariable("BACKPROP_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0
            ? s : DefaultSecondsPerTarget;

    [Theory]
    [FuzzTargetRows]
    public void MutatedFilesAreReadOrRefusedCleanly(string target, string reason)
    {
        Assert.Equal("", reason);
        if (target == "(none)") return;   // every target is in known-failing.txt
        Fuzz(FuzzTargets.Named(target));
    }

    [Theory]
    [FuzzTargetRows(KnownFailing = true, Skip = "listed in Fuzz/Corpus/known-failing.txt (reason in the second argument) or guarded")]
    public void KnownFailingTargets(string target, string reason)
    {
        _ = reason;
        Fuzz(FuzzTargets.Named(target));
    }

    public static TheoryData<string> TargetNames() => [.. FuzzTargets.All.Select(t => t.Name)];

    /// <summary>The harness's own check: mutations start from files each reader accepts.</summary>
    [Theory]
    [MemberData(nameof(TargetNames))]
    public void EverySeedIsAccepted(string target)
    {
        var t = FuzzTargets.Named(target);
        foreach (var (name, bytes) in t.Seeds.Value)
        {
            var outcome = FuzzRunner.Run(t, bytes);
            Assert.True(outcome.Verdict == FuzzVerdict.Accepted, $"{target} seed '{name}' should be valid, got {outcome}");
        }
    }

    private void Fuzz(FuzzTarget target)
    {
        var clock = Stopwatch.StartNew();
        var verdicts = new Dictionary<FuzzVerdict, int>();
        long i = 0;
        for (; clock.Elapsed.TotalSeconds < SecondsPerTarget; i++)
        {
            var input = FuzzInputs.Nth(target, i);
            var outcome = FuzzRunner.Run(target, input.Bytes(target));
            verdicts[outcome.Verdict] = verdicts.GetValueOrDefault(outcome.Verdict) + 1;
            if (!outcome.IsFailure) continue;
            var (bytes, minimal) = FuzzMinimizer.Minimize(target, input, outcome);
            string saved = FuzzMinimizer.Save(target, bytes, minimal);
            Assert.Fail($"{target.Name}: input {i} ({input}) failed: {outcome}\n" +
                        $"Shrunk to {bytes.Length} bytes: {minimal}\n" +
                        $"Saved as {saved}; copy it into tests/Backprop.Tests/Fuzz/Corpus/{target.Name}/ so the replay test keeps it fixed.");
        }
        output.WriteLine($"{target.Name}: {i} inputs in {clock.Elapsed.TotalSeconds:F1} s: {string.Join(", ", verdicts.Select(v => $"{v.Key} {v.Value}"))}");
    }
}
