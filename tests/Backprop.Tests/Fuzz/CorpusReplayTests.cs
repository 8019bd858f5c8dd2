using Backprop.Tests.Fuzz.Harness;

namespace Backprop.Tests.Fuzz;

/// <summary>
/// Replays every input that ever made a reader fail (Fuzz/Corpus/&lt;target&gt;/*.bin, including the cases the
/// issue-13 trial found): each must now be read or refused cleanly, and those in expectations.txt refused.
/// </summary>
public sealed class CorpusReplayTests
{
    [Theory]
    [CorpusRows]
    public void CorpusEntryIsReadOrRefusedCleanly(string entry, string reason)
    {
        Assert.Equal("", reason);
        if (entry == "(none)") return;   // every entry is known to fail
        Replay(entry);
    }

    [Theory]
    [CorpusRows(KnownFailing = true, Skip = "listed in Fuzz/Corpus/known-failing.txt (reason in the second argument) until its fix merges")]
    public void KnownFailingCorpusEntry(string entry, string reason)
    {
        _ = reason;
        Replay(entry);
    }

    [Fact]
    public void KnownFailingListNamesOnlyExistingEntriesAndTargets()
    {
        var entries = FuzzCorpus.Entries().ToHashSet();
        var targets = FuzzTargets.All.Select(t => "fuzz:" + t.Name).ToHashSet();
        foreach (var (key, reason) in FuzzCorpus.KnownFailing())
        {
            Assert.True(entries.Contains(key) || targets.Contains(key), $"known-failing.txt lists '{key}', which is neither a corpus entry nor fuzz:<target>.");
            Assert.False(string.IsNullOrWhiteSpace(reason), $"known-failing.txt: '{key}' needs a reason.");
        }
        Assert.All(entries, e => FuzzCorpus.TargetOf(e));   // every folder is a target's name
    }

    private static void Replay(string entry)
    {
        var target = FuzzCorpus.TargetOf(entry);
        var outcome = FuzzRunner.Run(target, File.ReadAllBytes(Path.Combine(FuzzCorpus.Directory, entry)));
        Assert.False(outcome.IsFailure, $"{entry}: {outcome}");
        if (FuzzCorpus.Expectation(entry) == CorpusExpectation.Reject)
            Assert.True(outcome.Verdict == FuzzVerdict.Rejected, $"{entry} must be refused (expectations.txt), but was {outcome}");
    }
}
