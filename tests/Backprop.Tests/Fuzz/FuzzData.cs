using System.Reflection;
using Backprop.Tests.Fuzz.Harness;
using Xunit.Sdk;

namespace Backprop.Tests.Fuzz;

/// <summary>
/// Rows for the fuzz theories, split by Corpus/known-failing.txt: with <see cref="KnownFailing"/> false the
/// entries (or targets) that must pass; with it true, and a Skip reason on the attribute, those whose fix has not
/// merged yet, each reported as skipped with its reason as the second argument. An empty side gives one
/// "(none)" row, since xunit fails a theory without data.
/// </summary>
public abstract class FuzzRowsAttribute : DataAttribute
{
    public bool KnownFailing { get; set; }

    protected abstract IEnumerable<string> Keys();

    protected abstract string ListKey(string key);

    public override IEnumerable<object[]> GetData(MethodInfo testMethod)
    {
        var known = FuzzCorpus.KnownFailing();
        var rows = new List<object[]>();
        foreach (string key in Keys())
        {
            string? reason = known.TryGetValue(ListKey(key), out string? r) ? r : null;
            if ((reason is not null) == KnownFailing) rows.Add([key, reason ?? ""]);
        }
        return rows.Count > 0 ? rows : [["(none)", ""]];
    }
}

/// <summary>Every fuzz target by name; known-failing.txt lists them as "fuzz:&lt;target&gt;".</summary>
public sealed class FuzzTargetRowsAttribute : FuzzRowsAttribute
{
    protected override IEnumerable<string> Keys() => FuzzTargets.All.Select(t => t.Name);

    protected override string ListKey(string key) => "fuzz:" + key;
}

/// <summary>Every corpus entry, "&lt;target&gt;/&lt;name&gt;.bin".</summary>
public sealed class CorpusRowsAttribute : FuzzRowsAttribute
{
    protected override IEnumerable<string> Keys() => FuzzCorpus.Entries();

    protected override string ListKey(string key) => key;
}
