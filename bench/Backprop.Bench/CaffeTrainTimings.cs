using System.Diagnostics;
using System.Globalization;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Bench;

/// <summary>
/// A Caffe solver's training, step by step (caffe-train SOLVER ITERATIONS): the median and mean time of one
/// iteration (data, forward, backward, update, as <see cref="CaffeSolver.Step"/> times itself; the first
/// iterations count, as in a user's run), then one pass of every test net (its test_iter batches) for the test
/// outputs and the inference time per batch. Prints a RESULT line for bench/cifar/run.sh. Threads: BACKPROP_NUM_THREADS.
/// </summary>
internal static class CaffeTrainTimings
{
    public static void Run(string solverPath, int iterations)
    {
        var definition = Prototxt.ParseFile<SolverParameter>(solverPath);
        var solver = new CaffeSolver(definition, solverPath);
        var times = new List<double>(iterations);
        float loss = float.NaN;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            var before = solver.StepTime;
            loss = solver.Step(out _);
            times.Add((solver.StepTime - before).TotalMilliseconds);
        }
        double trainSeconds = total.Elapsed.TotalSeconds;
        var clock = Stopwatch.StartNew();
        solver.TestAll();
        double testMs = clock.Elapsed.TotalMilliseconds;
        int testBatches = definition.TestIter.Count > 0 ? definition.TestIter[0] : 0;
        var outputs = solver.TestResults.Count > 0 ? solver.TestResults[^1].Outputs : [];
        float accuracy = outputs.FirstOrDefault(o => o.Name == "accuracy").Value;
        var sorted = times.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT backprop ms_per_iter_median={sorted[sorted.Count / 2]:F2} ms_per_iter_mean={times.Average():F2} " +
            $"train_seconds={trainSeconds:F2} iterations={iterations} loss={loss:F4} test_accuracy={accuracy:F4} " +
            $"test_ms_per_batch={testMs / Math.Max(1, testBatches):F2} test_batches={testBatches} " +
            $"peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}"));
    }
}
