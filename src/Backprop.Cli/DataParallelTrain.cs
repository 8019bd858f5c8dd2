using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Distributed;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train</c> started by mpirun/mpiexec with two or more processes: every rank builds the solver, rank 0
/// restores or loads weights and the solver hands them to the others, and they train data-parallel (see
/// <see cref="DataParallelTraining"/>); rank 0 alone prints. A failure on any rank ends the whole job at once with
/// the rank and the iteration named (MPI_Abort), so no rank waits forever for one that is gone; ranks given
/// different setups all refuse to start, with one message from rank 0.
/// </summary>
internal static class DataParallelTrain
{
    public static int Run(FileInfo solverFile, FileInfo? snapshot, FileInfo? weights, bool allowNonFiniteWeights,
        SolverAction onInterrupt, SolverAction onHangup)
    {
        Communicator communicator;
        try
        {
            communicator = Communicator.Initialize();
        }
        catch (MpiException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        CaffeSolver? solver = null;
        string stage = "setup (reading the solver, building the nets)";
        try
        {
            TrainCommand.CheckStart(snapshot, weights);
            var report = new TrainingReport();
            var definition = Prototxt.ParseFile<SolverParameter>(solverFile.FullName);
            // Signals reach every rank (mpirun forwards them); the ranks agree on the strongest request each iteration.
            using var signals = new TrainingSignals(onInterrupt, onHangup);
            solver = new CaffeSolver(definition, solverFile.FullName, Console.Out, progress: null, communicator) { ActionRequested = signals.Requests.Take };
            stage = snapshot is not null ? $"restoring {snapshot.FullName}" : weights is not null ? $"loading {weights.FullName}" : stage;
            if (communicator.IsRoot && snapshot is not null) solver.Restore(snapshot.FullName, allowNonFiniteWeights);
            if (communicator.IsRoot && weights is not null) solver.LoadWeights(weights.FullName, allowNonFiniteWeights);
            stage = "";
            solver.Solve();
            if (communicator.IsRoot) report.Print(solver, solverFile.FullName);
            return 0;
        }
        catch (DataParallelSetupException e)
        {
            if (communicator.IsRoot) Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            JobFailure.Abort(communicator, e, stage.Length > 0 || solver is null ? stage : $"iteration {solver.Iteration}");
            return 1;
        }
    }
}
