using System.Diagnostics;
using Filters;

// Trains a small CNN on generated bars and edges and shows its first-layer filters before and after:
// random noise turns into oriented edge and bar detectors. Pass a seed to see that another run
// learns other filters (dotnet run --project examples/Filters -c Release -- 2).
ulong seed = args.Length > 0 && ulong.TryParse(args[0], out var s) ? s : 1;
var clock = Stopwatch.StartNew();
var result = FilterTraining.Train(seed, progress: new SynchronousProgress(p => { if (p.Step % 50 == 0) Console.WriteLine($"step {p.Step,4}  loss {p.Loss:F4}"); }));
Console.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s, seed {seed}: test accuracy {result.TestAccuracy:P1} on 1000 new images");
Console.WriteLine();
Console.WriteLine("conv1 filters at initialization (random):");
Console.WriteLine(FilterText.Render(result.InitialFilters));
Console.WriteLine("conv1 filters after training (bright = large weight):");
Console.WriteLine(FilterText.Render(result.Net.Conv1.Weight));
var similarity = FilterText.Similarities(result.InitialFilters, result.Net.Conv1.Weight);
Console.WriteLine("similarity of each filter to its random start (1.00 = never changed: its ReLU never fired, a 'dead' filter):");
Console.WriteLine(string.Join("   ", similarity.Select(v => $"{v,8:F2}  ")));

/// <summary>Reports on the calling thread, so lines print in order.</summary>
sealed class SynchronousProgress(Action<(int Step, float Loss)> report) : IProgress<(int Step, float Loss)>
{
    public void Report((int Step, float Loss) value) => report(value);
}
