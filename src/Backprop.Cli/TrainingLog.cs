using Backprop.Caffe;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary>After <c>backprop train</c>: the run's losses and test results as <c>{prefix}_log.csv</c> and <c>{prefix}_curves.png</c>.</summary>
public static class TrainingLog
{
    /// <summary>Writes both files beside the snapshots (snapshot_prefix, else the solver file's name) and returns their paths.</summary>
    public static (string Csv, string Png) Write(CaffeSolver solver, string? solverPath)
    {
        ArgumentNullException.ThrowIfNull(solver);
        string prefix = solver.Definition.HasSnapshotPrefix ? solver.Definition.SnapshotPrefix
            : solverPath is not null ? Path.ChangeExtension(solverPath, null) : "backprop";
        var curves = TrainingCurves.FromCaffeSolver(solver);
        string csv = prefix + "_log.csv", png = prefix + "_curves.png";
        curves.SaveCsv(csv);
        curves.SavePng(png);
        Console.WriteLine($"Wrote the training log to {csv} and the curves to {png}.");
        return (csv, png);
    }
}
