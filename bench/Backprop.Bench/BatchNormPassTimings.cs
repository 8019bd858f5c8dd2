using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20's BatchNorm shapes in training (batch 128): the separate kernels (statistics, normalize; sums, dx; each a
/// pass over the tensor) against the one-kernel passes (<see cref="BatchNorm.TrainingForward(ReadOnlySpan{float}, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{double}, Span{double}, Span{double}, Span{float}, bool)"/>
/// and the rest, which run both passes of a channel group while it is in cache), alternating call by call in one
/// process; prints min and median per op after warm-up. Threads: BACKPROP_NUM_THREADS.
/// </summary>
internal static class BatchNormPassTimings
{
    public static void Run(int repeats)
    {
        Console.WriteLine($"threads {KernelThreads.Count}, SIMD {SimdWidth.Max} bits; min / median of {repeats} after 5 warm-up rounds");
        foreach (var (c, h) in new[] { (16, 32), (32, 16), (64, 8) })
        {
            int n = 128, inner = h * h;
            float[] x = Data.Random((long)n * c * inner, 1), dy = Data.Random(x.Length, 2), r = Data.Random(x.Length, 3);
            float[] w = Data.Random(c, 4), b = Data.Random(c, 5), y = new float[x.Length], dx = new float[x.Length], m = new float[x.Length];
            double[] mean = new double[c], variance = new double[c], invStd = new double[c], sa = new double[c], sb = new double[c];
            BatchNorm.Statistics(x, n, c, inner, mean, variance);
            BatchNorm.InverseStd(variance, 1e-5f, invStd);
            var cases = new (string Name, Action Old, Action New)[]
            {
                ("fwd relu", () =>
                {
                    BatchNorm.Statistics(x, n, c, inner, mean, variance);
                    BatchNorm.InverseStd(variance, 1e-5f, invStd);
                    BatchNorm.Normalize(x, n, c, inner, mean, invStd, w, b, y, relu: true);
                }, () => BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y, relu: true)),
                ("fwd add-relu", () =>
                {
                    BatchNorm.Statistics(x, n, c, inner, mean, variance);
                    BatchNorm.InverseStd(variance, 1e-5f, invStd);
                    BatchNorm.NormalizeAddRelu(x, r, n, c, inner, mean, invStd, w, b, y);
                }, () => BatchNorm.TrainingForwardAddRelu(x, r, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y)),
                ("bwd relu", () =>
                {
                    BatchNorm.BackwardSumsRelu(x, dy, n, c, inner, mean, invStd, w, b, sa, sb);
                    BatchNorm.BackwardInput(x, dy, n, c, inner, mean, invStd, w, sa, sb, true, dx, relu: true, b);
                }, () => BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, sa, sb, dx, relu: true)),
                ("bwd add-relu", () =>
                {
                    Activations.ReluBackward(r, dy, m);   // as Functional.BatchNormAddRelu ran it: one thread
                    BatchNorm.BackwardSums(x, m, n, c, inner, mean, invStd, sa, sb);
                    BatchNorm.BackwardInput(x, m, n, c, inner, mean, invStd, w, sa, sb, true, dx);
                }, () => BatchNorm.TrainingBackwardAddRelu(x, r, dy, n, c, inner, mean, invStd, w, sa, sb, m, dx)),
            };
            foreach (var (name, oldPass, newPass) in cases)
            {
                var times = new[] { new List<double>(), new List<double>() };
                for (int round = 0; round < repeats + 5; round++)
                {
                    double o = Timing.Milliseconds(oldPass), f = Timing.Milliseconds(newPass);
                    if (round < 5) continue;
                    times[0].Add(o);
                    times[1].Add(f);
                }
                Console.WriteLine($"(128, {c}, {h}, {h}) {name,-13} separate {times[0].Min():F3} / {Timing.Median(times[0]):F3} ms, " +
                    $"one kernel {times[1].Min():F3} / {Timing.Median(times[1]):F3} ms, median ratio {Timing.Median(times[1]) / Timing.Median(times[0]):F2}");
            }
        }
    }
}
