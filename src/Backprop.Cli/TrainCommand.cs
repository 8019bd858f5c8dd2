using System.CommandLine;
using System.Diagnostics;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Distributed.Mpi;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train --solver S [--snapshot F | --weights W] [--sigint-effect E] [--sighup-effect E]</c>, as <c>caffe train</c>
/// (which spells them <c>-solver</c>, <c>-sigint_effect</c>...: both spellings work, see <see cref="CaffeArguments"/>).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var solver = CaffeArguments.Flag<FileInfo>("--solver", "The solver prototxt.");
        solver.Required = true;
        var snapshot = CaffeArguments.Flag<FileInfo?>("--snapshot", "Resume from this .solverstate.");
        var weights = CaffeArguments.Flag<FileInfo?>("--weights", "Start from these .caffemodel weights (fine-tuning).");
        var gpu = CaffeArguments.Gpu();
        var allowNonFinite = WeightsArguments.AllowNonFinite();
        var sigint = TrainingSignals.InterruptOption();
        var sighup = TrainingSignals.HangupOption();
        var command = new Command("train", "Train a net with a Caffe solver.") { solver, snapshot, weights, allowNonFinite, sigint, sighup, gpu };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            if (MpiLauncher.WorldRank == 0) CaffeArguments.NoteGpu(result.GetValue(gpu));
            if (MpiLauncher.IsParallelJob)
                return DataParallelTrain.Run(result.GetValue(solver)!, result.GetValue(snapshot), result.GetValue(weights), result.GetValue(allowNonFinite),
                    TrainingSignals.Parse(result.GetValue(sigint)!), TrainingSignals.Parse(result.GetValue(sighup)!));
            return Train(result.GetValue(solver)!, result.GetValue(snapshot), result.GetValue(weights), result.GetValue(allowNonFinite),
                TrainingSignals.Parse(result.GetValue(sigint)!), TrainingSignals.Parse(result.GetValue(sighup)!));
        }));
        return command;
    }

    private static int Train(FileInfo solverFile, FileInfo? snapshot, FileInfo? weights, bool allowNonFiniteWeights,
        SolverAction onInterrupt, SolverAction onHangup)
    {
        CheckStart(snapshot, weights);
        var definition = Prototxt.ParseFile<SolverParameter>(solverFile.FullName);
        var report = new TrainingReport();
        CaffeSolver? trained = null;
        // From here on Ctrl-C finishes the iteration, snapshots and writes the log (caffe's -sigint_effect stop).
        using var signals = new TrainingSignals(onInterrupt, onHangup);
        ConsoleProgress.Run("training", 0, definition.MaxIter, definition.Display, (progress, log) =>
        {
            var solver = new CaffeSolver(definition, solverFile.FullName, log, progress) { ActionRequested = signals.Requests.Take };
            if (snapshot is not null) solver.Restore(snapshot.FullName, allowNonFiniteWeights);
            if (weights is not null) solver.LoadWeights(weights.FullName, allowNonFiniteWeights);
            solver.Solve();
            trained = solver;
        });
        report.Print(trained!, solverFile.FullName);
        return 0;
    }

    /// <summary>Refuses --snapshot with --weights.</summary>
    public static void CheckStart(FileInfo? snapshot, FileInfo? weights)
    {
        if (snapshot is not null && weights is not null)
            throw new ArgumentException("Give either --snapshot (resume) or --weights (fine-tune), not both.");
    }
}

/// <summary>What <c>backprop train</c> prints at the end: time, memory, the final test results, and the log files.</summary>
internal sealed class TrainingReport
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly long allocatedBefore = GC.GetTotalAllocatedBytes();
    private readonly int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);

    public void Print(CaffeSolver trained, string solverPath)
    {
        Console.WriteLine($"Trained {trained.Iteration} iterations ({trained.EpochAt(trained.Iteration):F2} epochs) in {clock.Elapsed.TotalSeconds:F1} s " +
                          $"({trained.StepTime.TotalSeconds:F1} s in the iterations themselves).");
        // Building the nets and loading the data count too: over a long run this tends to what one step allocates.
        long allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        Console.WriteLine($"Memory: {allocated / 1024.0 / Math.Max(1, trained.Iteration):F1} KB allocated per iteration; garbage collections " +
                          $"gen0 {GC.CollectionCount(0) - gen0}, gen1 {GC.CollectionCount(1) - gen1}, gen2 {GC.CollectionCount(2) - gen2}; " +
                          $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB.");
        var last = trained.TestResults.LastOrDefault();
        if (last.Outputs is not null)
            foreach (var (name, value) in last.Outputs)
                Console.WriteLine($"Final test {name}: {value:F4}");
        TrainingLog.Write(trained, solverPath);
    }
}
