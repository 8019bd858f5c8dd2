using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// Batch-norm forward+backward in training (statistics, normalize, backward sums, dx) through
/// <see cref="BatchNormReference"/> (the plain double loops that Functional.BatchNorm ran before) and the fast
/// <see cref="BatchNorm"/> kernels, alternating call by call in one process so a shared machine's noise hits both;
/// prints the medians after warm-up. Threads: BACKPROP_NUM_THREADS.
/// </summary>
internal static class BatchNormTimings
{
    public static void Run(int repeats)
    {
        Console.WriteLine($"threads {KernelThreads.Count}, SIMD {SimdWidth.Max} bits; median of {repeats} after 3 warm-up rounds");
        foreach (var (n, c, h) in new[] { (4, 16, 224), (4, 128, 14) })
        {
            int inner = h * h;
            float[] x = Data.Random((long)n * c * inner, 1), dy = Data.Random(x.Length, 2), weight = Data.Random(c, 3), bias = Data.Random(c, 4);
            var timesRef = new List<double>();
            var timesFast = new List<double>();
            for (int round = 0; round < repeats + 3; round++)
            {
                double r = Timing.Milliseconds(() => Step(true, x, dy, n, c, inner, weight, bias));
                double f = Timing.Milliseconds(() => Step(false, x, dy, n, c, inner, weight, bias));
                if (round < 3) continue;
                timesRef.Add(r);
                timesFast.Add(f);
            }
            double mr = Timing.Median(timesRef), mf = Timing.Median(timesFast);
            Console.WriteLine($"bn fwd+bwd ({n}, {c}, {h}, {h}): reference {mr:F2} ms, fast {mf:F2} ms, {mr / mf:F1}x");
        }
    }

    private static void Step(bool reference, float[] x, float[] dy, int n, int c, int inner, float[] weight, float[] bias)
    {
        double[] mean = new double[c], variance = new double[c], invStd = new double[c], sumDy = new double[c], sumDyXhat = new double[c];
        float[] y = new float[x.Length], dx = new float[x.Length];
        if (reference) BatchNormReference.Statistics(x, n, c, inner, mean, variance);
        else BatchNorm.Statistics(x, n, c, inner, mean, variance);
        BatchNorm.InverseStd(variance, 1e-5f, invStd);
        if (reference)
        {
            BatchNormReference.Normalize(x, n, c, inner, mean, invStd, weight, bias, y);
            BatchNormReference.BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            BatchNormReference.BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, true, dx);
        }
        else
        {
            BatchNorm.Normalize(x, n, c, inner, mean, invStd, weight, bias, y);
            BatchNorm.BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            BatchNorm.BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, true, dx);
        }
    }

}
