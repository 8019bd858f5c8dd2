namespace Backprop.Tests.Fuzz.Harness;

/// <summary>What a corpus entry must do besides not failing (Corpus/expectations.txt).</summary>
public enum CorpusExpectation
{
    /// <summary>Accepted or cleanly rejected, like every input.</summary>
    Any,
    /// <summary>Must be refused: the file is not valid, and reading it "successfully" is the bug.</summary>
    Reject,
}

/// <summary>
/// The committed corpus, tests/Backprop.Tests/Fuzz/Corpus: &lt;target&gt;/&lt;name&gt;.bin for every input that ever
/// failed, known-failing.txt (entries and property tests whose fix has not merged yet, each with its reason) and
/// expectations.txt (entries that must be rejected). Found from the source tree, above the test assembly.
/// </summary>
public static class FuzzCorpus
{
    public static string Directory
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Backprop.sln"))) return Path.Combine(d.FullName, "tests", "Backprop.Tests", "Fuzz", "Corpus");
            throw new DirectoryNotFoundException($"Could not find the repository root (Backprop.sln) above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>Every entry as "target/name.bin", sorted.</summary>
    public static IReadOnlyList<string> Entries() =>
        [.. System.IO.Directory.EnumerateFiles(Directory, "*.bin", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Directory, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// known-failing.txt: "target/name.bin # reason" for corpus entries, "fuzz:target # reason" for property tests.
    /// Empty it as the fixes merge.
    /// </summary>
    public static IReadOnlyDictionary<string, string> KnownFailing() => ReadList("known-failing.txt");

    public static CorpusExpectation Expectation(string entry) =>
        ReadList("expectations.txt").TryGetValue(entry, out string? e) && e.StartsWith("reject", StringComparison.Ordinal)
            ? CorpusExpectation.Reject : CorpusExpectation.Any;

    /// <summary>The target an entry belongs to (its folder).</summary>
    public static FuzzTarget TargetOf(string entry) => FuzzTargets.Named(entry[..entry.IndexOf('/')]);

    private static Dictionary<string, string> ReadList(string name)
    {
        var list = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(Directory, name);
        if (!File.Exists(path)) return list;
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            // "key rest": rest is "reject # why" in expectations.txt, "# why" in known-failing.txt.
            string[] parts = line.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
            string rest = parts.Length > 1 ? parts[1].Trim() : "";
            list[parts[0]] = rest.StartsWith('#') ? rest[1..].Trim() : rest;
        }
        return list;
    }
}
