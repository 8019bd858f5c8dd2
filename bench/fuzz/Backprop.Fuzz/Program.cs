using System.Globalization;
using Backprop.Tests.Fuzz.Harness;

// Developer fuzzing of Backprop's readers; see bench/fuzz/README.md.
//   seeds <target> <dir>                 write the target's valid seeds (AFL's input folder)
//   afl <target>                         run under afl-fuzz (SharpFuzz): a failure verdict is a crash to AFL
//   count [--n N] [--batch B] [--out DIR] [target...]
//                                        N mutated inputs per target in child processes; prints the table
//   batch <target> <start> <count>       (child of count) judge inputs start..start+count-1, one line each
//   minimize <target> <index> <dir>      (child of count) shrink input index and save it under dir
//   replay <target> <file>               judge one file
//   issue-cases <dir>                    write the issue-13 trial's cases in the corpus layout
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Backprop.Fuzz seeds|afl|count|batch|minimize|replay|issue-cases ... (see bench/fuzz/README.md)");
    Console.Error.WriteLine("targets: " + string.Join(" ", FuzzTargets.All.Select(t => t.Name)));
    return 2;
}
switch (args[0])
{
    case "seeds":
    {
        var target = FuzzTargets.Named(args[1]);
        Directory.CreateDirectory(args[2]);
        foreach (var (name, bytes) in target.Seeds.Value) File.WriteAllBytes(Path.Combine(args[2], name + ".bin"), bytes);
        return 0;
    }
    case "afl":
    {
        var target = FuzzTargets.Named(args[1]);
        _ = target.Seeds.Value;   // build the seeds (and the targets' nets) before the fork server starts
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var outcome = FuzzRunner.Run(target, buffer.ToArray());
            if (outcome.IsFailure) throw new FuzzFailureException(outcome.ToString());
        });
        return 0;
    }
    case "count":
        return MutationCount.Run(args[1..]);
    case "batch":
    {
        var target = FuzzTargets.Named(args[1]);
        long start = long.Parse(args[2], CultureInfo.InvariantCulture), count = long.Parse(args[3], CultureInfo.InvariantCulture);
        for (long i = start; i < start + count; i++)
        {
            var outcome = FuzzRunner.Run(target, FuzzInputs.Nth(target, i).Bytes(target));
            Console.WriteLine(MutationCount.Line(i, outcome));
            Console.Out.Flush();
            if (outcome.Verdict == FuzzVerdict.Hang) return 3;   // the hung thread cannot be stopped: start afresh
        }
        return 0;
    }
    case "minimize":
    {
        var target = FuzzTargets.Named(args[1]);
        var input = FuzzInputs.Nth(target, long.Parse(args[2], CultureInfo.InvariantCulture));
        var outcome = FuzzRunner.Run(target, input.Bytes(target));
        var (bytes, minimal) = FuzzMinimizer.Minimize(target, input, outcome);
        Console.WriteLine(FuzzMinimizer.Save(target, bytes, minimal, args[3]));
        return 0;
    }
    case "replay":
    {
        var outcome = FuzzRunner.Run(FuzzTargets.Named(args[1]), File.ReadAllBytes(args[2]));
        Console.WriteLine(outcome);
        return outcome.IsFailure ? 1 : 0;
    }
    case "issue-cases":
        IssueCases.Write(args[1]);
        return 0;
    default:
        Console.Error.WriteLine($"unknown command '{args[0]}'");
        return 2;
}

/// <summary>A failure verdict, thrown so that AFL records the input as a crash.</summary>
internal sealed class FuzzFailureException(string message) : Exception(message);
