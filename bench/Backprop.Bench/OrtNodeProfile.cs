using System.Globalization;
using System.Text.Json;
using Backprop.Nn;
using Backprop.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Bench;

/// <summary>
/// Where ONNX Runtime's batch-1 time goes: ResNet-20 exported by <see cref="OnnxExporter"/>, run by ONNX Runtime with its
/// profiler on 1 and on 2 intra-op threads; prints each node's median µs per call (from the profiler's "kernel_time"
/// events) and the median whole run, to set beside <c>latency-profile</c>'s figures for Backprop's layers.
/// </summary>
internal static class OrtNodeProfile
{
    public static void Run(int calls)
    {
        var generator = new Generator(1);
        var resnet = new ResNet20(generator);
        resnet.Eval();
        string path = Path.Combine(Path.GetTempPath(), $"backprop-ort-profile-{Environment.ProcessId}.onnx");
        OnnxExporter.Export(resnet, [3, 32, 32], path);
        var input = Tensor.Rand(generator, 1, 3, 32, 32).ToArray();
        var columns = new List<Dictionary<string, double>>();
        var order = new List<string>();
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var options = new SessionOptions
                {
                    IntraOpNumThreads = threads,
                    InterOpNumThreads = 1,
                    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    EnableProfiling = true,
                    ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), $"backprop-ort-profile-{Environment.ProcessId}-{threads}t"),
                };
                using var session = new InferenceSession(path, options);
                string inputName = session.InputMetadata.Keys.Single();
                using var value = OrtValue.CreateTensorValueFromMemory(input, [1L, 3, 32, 32]);
                using var runOptions = new RunOptions();
                for (int i = 0; i < calls; i++)
                    using (session.Run(runOptions, [inputName], [value], session.OutputNames)) { }
                string profile = session.EndProfiling();
                columns.Add(Medians(profile, order));
                File.Delete(profile);
            }
            WholeRuns(path, resnet, input, calls);
        }
        finally { File.Delete(path); }
        Console.WriteLine($"ONNX Runtime ResNet-20 batch 1, median µs per call over {calls} calls: 1 thread, 2 threads, 2t/1t");
        foreach (string name in order)
        {
            double one = columns[0].GetValueOrDefault(name), two = columns[1].GetValueOrDefault(name);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ORTPROFILE {name,-50} {one,9:F1} {two,9:F1} {two / one,6:F2}"));
        }
    }

    // Whole calls without the profiler: ONNX Runtime and Backprop (BatchNorm folded), each on 1 and 2 threads, alternating
    // in blocks of 21 calls (Timing.Interleaved).
    private static void WholeRuns(string path, ResNet20 resnet, float[] input, int calls)
    {
        var sides = new List<(string Name, Action Body)>();
        var sessions = new List<InferenceSession>();
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1L, 3, 32, 32]);
        using var runOptions = new RunOptions();
        float[] output = new float[10];
        using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [1L, 10]);
        foreach (int threads in new[] { 1, 2 })
        {
            var options = new SessionOptions
            {
                IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            var session = new InferenceSession(path, options);
            sessions.Add(session);
            string inputName = session.InputMetadata.Keys.Single(), outputName = session.OutputMetadata.Keys.Single();
            sides.Add(($"ort {threads}t", () => session.Run(runOptions, [inputName], [value], [outputName], [outputValue])));
        }
        var folded = resnet.FusedForInference();
        var x = Tensor.FromArray(input, 1, 3, 32, 32);
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        foreach (int threads in new[] { 1, 2 })
            sides.Add(($"backprop folded {threads}t", () =>
            {
                Kernels.KernelThreads.Count = threads;
                using (pool.Scope()) folded.Forward(x).AsSpan();
            }));
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 3;)
            foreach (var (_, body) in sides) body();
        var times = Timing.Interleaved(sides.Select(side => side.Body).ToList(), calls / 20, 21);
        for (int s = 0; s < sides.Count; s++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WHOLE {sides[s].Name,-20} median {Timing.Median(times[s]) * 1000,7:F1} µs"));
        foreach (var session in sessions) session.Dispose();
    }

    // Median duration (µs) per node name over the profile's calls, the later half of them (the first calls warm up).
    private static Dictionary<string, double> Medians(string profile, List<string> order)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(profile));
        var durations = new Dictionary<string, List<double>>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            string name = e.GetProperty("name").GetString() ?? "";
            string category = e.GetProperty("cat").GetString() ?? "";
            if (!(category == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal)) && name != "model_run") continue;
            string key = name.Replace("_kernel_time", "", StringComparison.Ordinal);
            if (e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var op)) key = $"{key} ({op.GetString()})";
            if (!durations.TryGetValue(key, out var list)) { durations[key] = list = []; if (!order.Contains(key)) order.Add(key); }
            list.Add(e.GetProperty("dur").GetDouble());
        }
        return durations.ToDictionary(p => p.Key, p => Timing.Median(p.Value.Skip(p.Value.Count / 2).ToList()));
    }
}
