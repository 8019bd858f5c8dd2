using System.Diagnostics;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// Short Stopwatch timings for bench/kernels/run.sh, printed as "name median_ms" lines that the script
/// lines up with the peer's: GEMM (square and LeNet shapes, on the threads BACKPROP_NUM_THREADS gives) and
/// convolution forward+backward (forward, backward-data, backward-weights with bias); or, with "inference",
/// LeNet's forward pass without autograd recording (<see cref="LeNetBenchmarks.Inference"/>) at batch 64 and 1000.
/// </summary>
internal static class QuickTimings
{
    public static void Run(int repeats, bool inference = false)
    {
        if (inference)
        {
            foreach (int batch in new[] { 64, 1000 })
            {
                var lenet = new LeNetBenchmarks { Batch = batch };
                lenet.Setup();
                Report($"lenet inference b{batch}", () => lenet.Inference(), repeats);
            }
            return;
        }
        foreach (int s in new[] { 256, 512, 1024, 2048 })
            Gemm($"gemm {s}x{s}x{s}", s, s, s, false, false, repeats);
        Gemm("gemm 36864x20x25", 36864, 20, 25, false, false, repeats);
        Gemm("gemm 64x500x800 NT", 64, 500, 800, false, true, repeats);
        Conv("conv lenet2 64x20x12x12 k50 5x5", new Conv2dGeometry(64, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1), repeats);
        Conv("conv vgg 8x64x56x56 k64 3x3 p1", new Conv2dGeometry(8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), repeats);
        Conv("conv 1x1 8x256x28x28 k64", new Conv2dGeometry(8, 256, 28, 28, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1), repeats);
        Conv("conv lenet1 64x1x28x28 k20 5x5", new Conv2dGeometry(64, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1), repeats);
    }

    private static void Gemm(string name, int m, int n, int k, bool transA, bool transB, int repeats)
    {
        float[] a = Data.Random((long)m * k, 1), b = Data.Random((long)k * n, 2), c = new float[(long)m * n];
        Report(name, () => Kernels.Gemm.Sgemm(transA, transB, m, n, k, 1f, a, transA ? m : k, b, transB ? k : n, 0f, c, n), repeats);
    }

    private static void Conv(string name, Conv2dGeometry g, int repeats)
    {
        float[] x = Data.Random(g.InputLength, 1), w = Data.Random(g.WeightLength, 2), bias = Data.Random(g.OutChannels, 3);
        float[] y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 4), dx = new float[g.InputLength], dw = new float[g.WeightLength], db = new float[g.OutChannels];
        Report(name, () =>
        {
            Convolution.Forward(g, x, w, bias, y);
            Convolution.BackwardData(g, dy, w, dx);
            Convolution.BackwardWeights(g, x, dy, dw, db);
        }, repeats);
    }

    private static void Report(string name, Action body, int repeats)
    {
        // Warm up long enough for the JIT's tiers to settle (tier 0, then instrumented, then optimized with the
        // profile: 300 ms was too short, and a case measured mid-way ran 2-3x slow), then take the median of repeats.
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 10 || warm.ElapsedMilliseconds < 1500; i++) body();
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            body();
            times[r] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"{name}\t{times[repeats / 2]:F4}");
    }
}
