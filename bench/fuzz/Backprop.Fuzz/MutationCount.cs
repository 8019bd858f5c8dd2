using System.Diagnostics;
using System.Globalization;
using Backprop.Tests.Fuzz.Harness;

/// <summary>
/// The issue's measure: N mutated inputs per target, judged in child processes (batches of B) so that a reader
/// that kills its process (LMDB's SIGBUS) or hangs costs one input, not the run. Prints one table row per target.
/// </summary>
internal static class MutationCount
{
    private sealed class Tally
    {
        public long Inputs;
        public readonly Dictionary<FuzzVerdict, long> Verdicts = [];
        public readonly SortedSet<string> UncleanTypes = new(StringComparer.Ordinal);
        public readonly Dictionary<string, (long Index, string Detail)> FirstBySignature = new(StringComparer.Ordinal);

        public long this[FuzzVerdict v] => Verdicts.GetValueOrDefault(v);

        public void Add(long index, FuzzVerdict verdict, string? type, string detail)
        {
            Inputs++;
            Verdicts[verdict] = this[verdict] + 1;
            if (verdict == FuzzVerdict.Unclean && type is not null) UncleanTypes.Add(type);
            string signature = type is null ? verdict.ToString() : $"{verdict}:{type}";
            if (verdict is not (FuzzVerdict.Accepted or FuzzVerdict.Rejected)) FirstBySignature.TryAdd(signature, (index, detail));
        }
    }

    /// <summary>One child output line: index, verdict, exception type, bytes allocated, detail (tab-separated).</summary>
    public static string Line(long index, FuzzOutcome o) =>
        string.Join('\t', index.ToString(CultureInfo.InvariantCulture), o.Verdict, o.ExceptionType ?? "-", o.AllocatedBytes.ToString(CultureInfo.InvariantCulture), o.Detail.Replace('\t', ' '));

    public static int Run(string[] args)
    {
        long n = 10_000, batch = 500;
        string? output = null;
        var names = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--n": n = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--batch": batch = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": output = args[++i]; break;
                default: names.Add(args[i]); break;
            }
        }
        var targets = names.Count == 0 ? FuzzTargets.All : names.Select(FuzzTargets.Named).ToList();
        var rows = new List<(FuzzTarget Target, Tally Tally, TimeSpan Time)>();
        foreach (var target in targets)
        {
            var clock = Stopwatch.StartNew();
            var tally = new Tally();
            for (long next = 0; next < n;) next = Batch(target, next, Math.Min(batch, n - next), tally);
            rows.Add((target, tally, clock.Elapsed));
            Console.Error.WriteLine($"{target.Name}: {tally.Inputs} inputs in {clock.Elapsed.TotalSeconds:F0} s");
            if (output is not null) SaveFailures(target, tally, output);
        }
        Print(rows);
        return rows.Any(r => r.Tally.FirstBySignature.Count > 0) ? 1 : 0;
    }

    /// <summary>Runs inputs start.. in one child; returns the index to go on from (after a crash or a hang, the next one).</summary>
    private static long Batch(FuzzTarget target, long start, long count, Tally tally)
    {
        var child = Child("batch", target.Name, start.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture));
        var errors = child.StandardError.ReadToEndAsync();
        long next = start;
        while (child.StandardOutput.ReadLine() is { } line)
        {
            var f = line.Split('\t', 5);
            if (f.Length < 5 || !long.TryParse(f[0], CultureInfo.InvariantCulture, out long index)) continue;
            tally.Add(index, Enum.Parse<FuzzVerdict>(f[1]), f[2] == "-" ? null : f[2], f[4]);
            next = index + 1;
        }
        child.WaitForExit();
        if (next < start + count && child.ExitCode != 3)
        {
            // The child died while reading input `next`: a crash (signal exit codes are 128 + signal).
            string tail = errors.Result.Trim().Split('\n').LastOrDefault() ?? "";
            tally.Add(next, FuzzVerdict.Crash, $"exit {child.ExitCode}", $"process exited with {child.ExitCode}: {tail}");
            next++;
        }
        return next;
    }

    private static void SaveFailures(FuzzTarget target, Tally tally, string output)
    {
        foreach (var (signature, (index, detail)) in tally.FirstBySignature)
        {
            string saved = "";
            if (!signature.StartsWith("Crash", StringComparison.Ordinal) && !signature.StartsWith("Hang", StringComparison.Ordinal))
            {
                var child = Child("minimize", target.Name, index.ToString(CultureInfo.InvariantCulture), output);
                saved = child.StandardOutput.ReadToEnd().Trim();
                child.WaitForExit();
            }
            if (saved.Length == 0)   // a crash, a hang, or a shrink whose child died: keep the input as it was
                saved = FuzzMinimizer.Save(target, FuzzInputs.Nth(target, index).Bytes(target),
                    new FuzzOutcome(Enum.Parse<FuzzVerdict>(signature.Split(':')[0]), detail, 0, signature.Split(':', 2).ElementAtOrDefault(1)), output);
            Console.Error.WriteLine($"  {target.Name} {signature} (input {index}): {saved}");
        }
    }

    private static Process Child(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Run as `dotnet Backprop.Fuzz.dll` or as the apphost, whichever started us.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(MutationCount).Assembly.Location);
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    private static void Print(List<(FuzzTarget Target, Tally Tally, TimeSpan Time)> rows)
    {
        Console.WriteLine("| target | inputs | rejected | accepted | crashes | hangs | unclean | unnamed | long msg | over-alloc | unclean exception types |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (target, t, _) in rows)
            Console.WriteLine($"| {target.Name} | {t.Inputs} | {t[FuzzVerdict.Rejected]} | {t[FuzzVerdict.Accepted]} | {t[FuzzVerdict.Crash]} | {t[FuzzVerdict.Hang]} | " +
                              $"{t[FuzzVerdict.Unclean]} | {t[FuzzVerdict.Unnamed]} | {t[FuzzVerdict.LongMessage]} | {t[FuzzVerdict.OverAllocation]} | " +
                              $"{(t.UncleanTypes.Count == 0 ? "-" : string.Join(", ", t.UncleanTypes))} |");
        Console.WriteLine();
        foreach (var (target, t, _) in rows)
            foreach (var (signature, (index, detail)) in t.FirstBySignature)
                Console.WriteLine($"- {target.Name} {signature}, first at input {index}: {(detail.Length > 240 ? detail[..240] + "..." : detail)}");
    }
}
