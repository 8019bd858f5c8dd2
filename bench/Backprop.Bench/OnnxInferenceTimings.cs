using System.Globalization;
using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Onnx.Import;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Bench;

/// <summary>
/// Inference of LeNet and ResNet-20 in Backprop against ONNX Runtime running the same net exported by
/// <see cref="OnnxExporter"/>, in one process: Backprop's forward under no-grad in evaluation mode (ResNet-20 also with
/// each BatchNorm folded into its convolution), and an <see cref="InferenceSession"/> (ORT_ENABLE_ALL, intra-op threads
/// 2, sequential execution) on the exported file. Weights are random (timing does not depend on them); ResNet-20's
/// BatchNorm statistics are moved off their defaults by a few training-mode forwards so the fold is not trivial.
/// Rounds alternate the sides, and within a round each side runs a block of calls back to back (its first call is
/// not recorded: it only brings the side's weights back into cache), after a 20 ms pause that lets the other side's
/// spinning threads go to sleep; batch 64 runs a third of the rounds. Batch 1:
/// median and p90 latency; batch 64: images/s from the median. The outputs of each side at both batches are compared with ONNX Runtime's.
/// Backprop's threads: BACKPROP_NUM_THREADS (bench/onnx/run.sh sets 2).
/// </summary>
internal static class OnnxInferenceTimings
{
    private const int OrtThreads = 2;

    public static void Run(int rounds, IReadOnlyList<string> nets)
    {
        Console.WriteLine($"backprop threads={KernelThreads.Count} ort intra-op threads={OrtThreads} ort={typeof(InferenceSession).Assembly.GetName().Version} rounds={rounds}");
        foreach (string net in nets) RunNet(net, rounds);
    }

    private static void RunNet(string net, int rounds)
    {
        var generator = new Generator(1);
        var (model, sample) = Build(net, generator);
        string path = Path.Combine(Path.GetTempPath(), $"backprop-bench-{net}-{Environment.ProcessId}.onnx");
        try
        {
            OnnxExporter.Export(model, sample, path);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {net} to {path} ({new FileInfo(path).Length / 1024.0:F0} KiB), random weights"));
            using var options = new SessionOptions
            {
                IntraOpNumThreads = OrtThreads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            using var session = new InferenceSession(path, options);
            var sides = new List<(string Name, Module? Net)> { ("backprop", model) };
            if (model is ResNet20 resnet) sides.Add(("backprop_folded", resnet.FusedForInference()));
            var imported = OnnxImporter.Import(path);   // what a user who loads the exported file gets
            imported.Eval();
            sides.Add(("backprop_imported", imported));
            sides.Add(("ort", null));
            foreach (int batch in new[] { 1, 64 }) TimeBatch(net, batch, sample, sides, session, generator, rounds);
        }
        finally { File.Delete(path); }
    }

    // The net in evaluation mode (ResNet-20's BatchNorm statistics moved off their defaults) and one sample's shape.
    internal static (Module Model, int[] Sample) Build(string net, Generator generator)
    {
        switch (net)
        {
            case "lenet":
                // The net of LeNetBenchmarks and bench/kernels/peer.py: conv 20@5x5, max 2, conv 50@5x5, max 2, fc 500, ReLU, fc 10.
                var lenet = new Sequential(
                    new Conv2d(1, 20, 5, generator: generator), new MaxPool2d(2),
                    new Conv2d(20, 50, 5, generator: generator), new MaxPool2d(2),
                    new Flatten(), new Linear(800, 500, generator: generator), new Relu(), new Linear(500, 10, generator: generator));
                lenet.Eval();
                return (lenet, [1, 28, 28]);
            case "resnet20":
                var resnet = new ResNet20(generator);
                using (Autograd.Autograd.NoGrad())
                {
                    resnet.Train();
                    for (int i = 0; i < 3; i++) resnet.Forward(Tensor.Rand(generator, 8, 3, 32, 32));   // running statistics off their defaults
                }
                resnet.Eval();
                return (resnet, [3, 32, 32]);
            default:
                throw new ArgumentException($"Unknown net '{net}'; use lenet or resnet20.");
        }
    }

    private static void TimeBatch(string net, int batch, int[] sample, List<(string Name, Module? Net)> sides,
        InferenceSession session, Generator generator, int rounds)
    {
        int[] shape = [batch, .. sample];
        var input = Tensor.Rand(generator, shape);
        float[] inputData = input.ToArray();
        string inputName = session.InputMetadata.Keys.Single(), outputName = session.OutputMetadata.Keys.Single();
        using var ortInput = OrtValue.CreateTensorValueFromMemory(inputData, shape.Select(d => (long)d).ToArray());
        float[] ortOutputData = new float[batch * 10];
        using var ortOutput = OrtValue.CreateTensorValueFromMemory(ortOutputData, [batch, 10L]);
        using var runOptions = new RunOptions();
        string[] inputNames = [inputName], outputNames = [outputName];
        OrtValue[] inputs = [ortInput], outputs = [ortOutput];
        void RunOrt() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);

        using var noGrad = Autograd.Autograd.NoGrad();
        var pools = sides.Select(_ => new TensorMemoryPool()).ToArray();
        var bodies = new Action[sides.Count];
        for (int s = 0; s < sides.Count; s++)
        {
            var (_, module) = sides[s];
            var pool = pools[s];
            bodies[s] = module is null ? RunOrt : () => { using (pool.Scope()) module.Forward(input).AsSpan(); };
        }

        // The same function: each Backprop side's output against ONNX Runtime's.
        RunOrt();
        for (int s = 0; s < sides.Count; s++)
        {
            if (sides[s].Net is not { } module) continue;
            float[] ours = module.Forward(input).ToArray();
            double maxAbs = 0, scale = 0;
            for (int i = 0; i < ours.Length; i++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(ours[i] - ortOutputData[i]));
                scale = Math.Max(scale, Math.Abs(ortOutputData[i]));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"AGREE net={net} batch={batch} side={sides[s].Name} max_abs_diff={maxAbs:G3} max_abs_diff_over_max_abs_ort={maxAbs / Math.Max(scale, 1e-30):G3}"));
        }

        // Warm up by time, not by count: .NET first runs each method unoptimised and recompiles the hot ones (tiered
        // JIT) after about 30 calls plus a background delay, so a few warm-up rounds time tier-0 kernels against ORT's
        // native code (batch 1 came out 4-5x slower that way). Two seconds of calls per side is past the recompilation.
        foreach (var body in bodies)
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 2;) body();

        int block = batch == 1 ? 21 : 3;   // calls per side per round, the first one not recorded
        if (batch > 1) rounds = Math.Max(3, rounds / 3);   // a batch-64 call takes 100x longer; fewer rounds keep the run short
        var times = Timing.Interleaved(bodies, rounds, block, warmUpRounds: 2);
        var c = CultureInfo.InvariantCulture;
        double ortMedian = Timing.Median(times[^1]);
        for (int s = 0; s < sides.Count; s++)
        {
            double median = Timing.Median(times[s]), p90 = Percentile(times[s], 0.9);
            Console.WriteLine(string.Create(c,
                $"RESULT onnx net={net} batch={batch} side={sides[s].Name} median_ms={median:F4} p90_ms={p90:F4} images_per_s={batch * 1000 / median:F0} time_vs_ort={median / ortMedian:F3} n={times[s].Count}"));
        }
    }

    private static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    }
}
