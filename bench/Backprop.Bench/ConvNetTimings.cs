using System.Diagnostics;
using System.Globalization;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Bench;

/// <summary>
/// Training and inference timings of nets built with the core API (resnet20: <see cref="ResNet20"/> on 32x32,
/// batch 128; vgg: <see cref="VggStack"/> on 64x64, batch 32), on random images and labels (the speed does not
/// depend on the pixels). Training: SGD with momentum 0.9 (PyTorch's form), lr 0.1, weight decay 5e-4,
/// cross-entropy; each iteration is forward, backward and update in a memory-pool scope, as Keras's Fit runs it;
/// median and mean after the warm-up iterations (2 unless given; the JIT's tiering reaches its
/// steady code after about 15 steps, so bench/resnet/run.sh gives both sides 15). Inference (eval mode, no autograd, each BatchNorm folded into its
/// convolution by <see cref="Fusion"/>): median of batch 64 (images/s) and of batch 1 (latency), each after as many
/// untimed calls as the training's warm-up steps. Prints a RESULT line for bench/resnet/run.sh. Threads: BACKPROP_NUM_THREADS.
/// BACKPROP_BENCH_MEMORY=1 adds a line per training step: its time, resident memory, the pool, the managed heap, the loss's bits.
/// </summary>
internal static class ConvNetTimings
{

    /// <summary>The named net with its training batch size and image side: resnet20 (128, 32) or vgg (32, 64).</summary>
    public static (Module Model, int Batch, int Size) Make(string net, Generator generator) => net switch
    {
        "resnet20" => (new ResNet20(generator), 128, 32),
        "vgg" => (new VggStack(generator), 32, 64),
        _ => throw new ArgumentException($"Unknown net '{net}'; use resnet20 or vgg."),
    };

    public static void Run(string net, int iterations, int inferenceRepeats, int warmup)
    {
        if (iterations < 1 || inferenceRepeats < 1)
            throw new ArgumentException($"convnet {net}: iterations and inference repeats must be at least 1 (got {iterations}, {inferenceRepeats}).");
        var generator = new Generator(1);
        (Module model, int batch, int size) = Make(net, generator);
        var images = Tensor.Rand(generator, batch, 3, size, size);
        var labels = Enumerable.Range(0, batch).Select(_ => generator.NextInt(10)).ToArray();
        var optimizer = new Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f);
        var pool = new TensorMemoryPool();
        var times = new List<double>();
        float loss = float.NaN;
        bool memoryProfile = Environment.GetEnvironmentVariable("BACKPROP_BENCH_MEMORY") == "1";
        model.Train();
        for (int i = 0; i < iterations + warmup; i++)
        {
            var clock = Stopwatch.StartNew();
            using (pool.Scope())
            {
                optimizer.ZeroGrad(setToNone: false);   // as Keras's Fit: last step's gradient memory, not new arrays each step
                var output = Functional.CrossEntropy(model.Forward(images), labels);
                output.Backward();
                optimizer.Step();
                loss = output.Item();
            }
            double ms = clock.Elapsed.TotalMilliseconds;
            if (i >= warmup) times.Add(ms);
            if (memoryProfile) PrintMemory(i, ms, loss, pool);
        }

        double trainPeakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        pool.Trim();   // training is over: its buffers go back to the GC (PyTorch's allocator serves inference from its training cache)
        GC.Collect();
        model.Eval();
        // Inference runs the net with each BatchNorm folded into its convolution, as a deployed model would
        // (BACKPROP_BENCH_UNFOLDED=1 times the eval-mode net as trained, for comparison).
        bool unfolded = Environment.GetEnvironmentVariable("BACKPROP_BENCH_UNFOLDED") == "1";
        Module inference = unfolded ? model : model switch
        {
            ResNet20 r => r.FusedForInference(),
            VggStack v => v.FusedForInference(),
            _ => model,
        };
        var probe = Tensor.Rand(generator, 4, 3, size, size);
        double foldDiff = MaxRelativeDifference(model, inference, probe);
        var input64 = Tensor.Rand(generator, 64, 3, size, size);
        var input1 = Tensor.Rand(generator, 1, 3, size, size);
        double batch64 = Inference(inference, input64, inferenceRepeats, warmup);
        double batch1 = Inference(inference, input1, inferenceRepeats * 4, warmup);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT backprop net={net} batch={batch} size={size} params={model.ParameterCount()} " +
            $"train_ms_median={Timing.Median(times):F2} train_ms_mean={times.Average():F2} iterations={iterations} loss={loss:F4} " +
            $"infer64_ms={batch64:F2} infer64_images_per_s={64000 / batch64:F0} infer1_ms={batch1:F3} " +
            $"train_peak_mb={trainPeakMb:F0} peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} " +
            $"folded={(unfolded ? 0 : 1)} fold_max_rel_diff={foldDiff:E1}"));
    }

    // BACKPROP_BENCH_MEMORY=1: one line per step, for finding what the training peak holds (the loss's bits: to check
    // that a memory change leaves the arithmetic alone).
    private static void PrintMemory(int step, double ms, float loss, TensorMemoryPool pool)
    {
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory step={step} ms={ms:F1} loss={loss:R} loss_bits={BitConverter.SingleToInt32Bits(loss):X8} rss_mb={process.WorkingSet64 / 1048576.0:F1} " +
            $"peak_mb={process.PeakWorkingSet64 / 1048576.0:F1} pool_mb={pool.BytesHeld / 1048576.0:F1} " +
            $"managed_mb={GC.GetTotalMemory(false) / 1048576.0:F1} allocated_mb={GC.GetTotalAllocatedBytes() / 1048576.0:F1} " +
            $"gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
    }

    // max |folded - unfolded| over the largest |unfolded| output: float rounding only (about 1e-6), not a wrong fold.
    private static double MaxRelativeDifference(Module model, Module inference, Tensor input)
    {
        using var noGrad = Autograd.Autograd.NoGrad();
        float[] expected = model.Forward(input).ToArray(), actual = inference.Forward(input).ToArray();
        double scale = expected.Max(Math.Abs), diff = expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Max();
        return diff / scale;
    }

    // Untimed calls before the timed ones: `warmup` calls (as many as the training's warm-up steps) and at least this long,
    // both sides (pytorch_convnets.py too). The eval path's code (kept Winograd weights, the folded convolutions' residual
    // sums) runs for the first time here, and the tiered JIT reaches its optimized code only after a second or so of
    // calls: with 15 untimed calls, the median of 20 timed ResNet-20 batches of 64 was 14.0-14.5 ms; after 2 s of calls,
    // 9.2-9.5 ms (2026-12-07).
    private static readonly TimeSpan InferenceWarmUp = TimeSpan.FromSeconds(2);

    private static double Inference(Module model, Tensor input, int repeats, int warmup)
    {
        var pool = new TensorMemoryPool();
        var times = new List<double>();
        using var noGrad = Autograd.Autograd.NoGrad();
        var begin = Stopwatch.StartNew();
        for (int i = 0; i < warmup || begin.Elapsed < InferenceWarmUp; i++)
            using (pool.Scope()) model.Forward(input).AsSpan();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using (pool.Scope()) model.Forward(input).AsSpan();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Timing.Median(times);
    }
}
