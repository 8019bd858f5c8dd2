using System.Globalization;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Bench;

/// <summary>
/// Where batch-1 inference time goes: LeNet and ResNet-20 (<see cref="ResNetLatencyCases"/>) layer by layer, and whole, each
/// on 1 and on 2 kernel threads (<see cref="KernelThreads.Count"/>) alternating in rounds, median µs per call. Shows
/// whether handing tiny kernels to a second thread costs more than it gains. <c>batch</c> sets the batch of both nets' inputs (the bare-kernel rows of ResNet-20 stay at batch 1, 2 and 4).
/// </summary>
internal static class LatencyProfile
{
    public static void Run(int rounds, string nets = "lenet,resnet20", int batch = 1)
    {
        int threads = KernelThreads.Count;
        var generator = new Generator(1);
        var lenet = new Sequential(
            new Conv2d(1, 20, 5, generator: generator), new MaxPool2d(2),
            new Conv2d(20, 50, 5, generator: generator), new MaxPool2d(2),
            new Flatten(), new Linear(800, 500, generator: generator), new Relu(), new Linear(500, 10, generator: generator));
        lenet.Eval();
        using var noGrad = Autograd.Autograd.NoGrad();

        var cases = new List<(string Name, Action Body)>();
        var pool = new TensorMemoryPool();
        var x = Tensor.Rand(generator, batch, 1, 28, 28);
        foreach (var (name, layer) in lenet.NamedChildren())
        {
            var input = x;
            cases.Add(($"lenet layer {name} {layer.GetType().Name} in {input.Shape}", () => { using (pool.Scope()) layer.Forward(input).AsSpan(); }));
            x = layer.Forward(input);
        }
        var image = Tensor.Rand(generator, batch, 1, 28, 28);
        cases.Add(("lenet whole", () => { using (pool.Scope()) lenet.Forward(image).AsSpan(); }));
        // What a matrix-vector path would cost for LeNet's fc 800->500 at batch 1: one dot product per output.
        var fc = (Linear)lenet.NamedChildren()[5].Value;
        var fcInput = Tensor.Rand(generator, 800);
        var fcOutput = new float[500];
        cases.Add(("lenet fc 800->500 as 500 dot products (what-if)", () =>
        {
            ReadOnlySpan<float> w = fc.Weight.AsSpan(), v = fcInput.AsSpan();
            for (int j = 0; j < 500; j++) fcOutput[j] = System.Numerics.Tensors.TensorPrimitives.Dot(w.Slice(j * 800, 800), v);
        }));
        if (!nets.Contains("lenet", StringComparison.Ordinal)) cases.Clear();
        if (nets.Contains("resnet20", StringComparison.Ordinal)) ResNetLatencyCases.Add(cases, generator, pool, batch);

        int[] counts = [1, 2];
        var times = new List<double>[cases.Count, counts.Length];
        for (int c = 0; c < cases.Count; c++) for (int t = 0; t < counts.Length; t++) times[c, t] = [];
        // Past tiered compilation first (see OnnxInferenceTimings): 3 s of calls over all cases, both thread counts.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 3;)
            foreach (int count in counts)
            {
                KernelThreads.Count = count;
                foreach (var (_, body) in cases) body();
            }
        for (int round = -2; round < rounds; round++)
            for (int c = 0; c < cases.Count; c++)
                for (int t = 0; t < counts.Length; t++)
                {
                    KernelThreads.Count = counts[(t + Math.Max(round, 0)) % counts.Length];
                    int slot = Array.IndexOf(counts, KernelThreads.Count);
                    for (int i = 0; i < 11; i++)
                    {
                        double ms = Timing.Milliseconds(cases[c].Body);
                        if (round >= 0 && i > 0) times[c, slot].Add(ms * 1000);
                    }
                }
        KernelThreads.Count = threads;
        Console.WriteLine($"lenet batch {batch}, median µs per call: 1 thread, 2 threads, 2t/1t");
        for (int c = 0; c < cases.Count; c++)
        {
            double one = Timing.Median(times[c, 0]), two = Timing.Median(times[c, 1]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE {cases[c].Name,-62} {one,9:F1} {two,9:F1} {two / one,6:F2}"));
        }
    }
}
