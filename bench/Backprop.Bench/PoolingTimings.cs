using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// Pooling forward+backward through <see cref="PoolingReference"/> (plain loops, one thread) and the fast
/// <see cref="Pooling"/> and <see cref="AdaptivePooling"/> kernels, alternating call by call in one process so a shared
/// machine's noise hits both; prints the medians after warm-up. Shapes: Caffe's cifar10_quick pooling layers (batch
/// 100, ceil rounding) and ResNet-20's global average pooling (batch 128). Threads: BACKPROP_NUM_THREADS.
/// </summary>
internal static class PoolingTimings
{
    public static void Run(int repeats)
    {
        Console.WriteLine($"threads {KernelThreads.Count}, SIMD {SimdWidth.Max} bits; median of {repeats} after 3 warm-up rounds");
        foreach (var (name, max, g) in new[]
        {
            ("pool1 MAX 3x3 s2 100x32x32x32", true, Pool2dGeometry.Create(100, 32, 32, 32, 3, 3, 2, 2, 0, 0, true)),
            ("pool2 AVE 3x3 s2 100x32x16x16", false, Pool2dGeometry.Create(100, 32, 16, 16, 3, 3, 2, 2, 0, 0, true)),
            ("pool3 AVE 3x3 s2 100x64x8x8", false, Pool2dGeometry.Create(100, 64, 8, 8, 3, 3, 2, 2, 0, 0, true)),
            ("global AVE 128x64x8x8", false, Pool2dGeometry.Create(128, 64, 8, 8, 8, 8, 1, 1, 0, 0, false)),
        })
        {
            float[] x = Data.Random(g.InputLength, 1), y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 2), dx = new float[g.InputLength];
            int[] argmax = new int[g.OutputLength];
            bool global = g.KernelHeight == g.InHeight && g.KernelWidth == g.InWidth;
            int planes = g.Batch * g.Channels;
            Action reference = max ? () => { PoolingReference.MaxForward(g, x, y, argmax); PoolingReference.MaxBackward(g, dy, argmax, dx); }
                : global ? () => { PoolingReference.AdaptiveAvgForward(planes, g.InHeight, g.InWidth, 1, 1, x, y); PoolingReference.AdaptiveAvgBackward(planes, g.InHeight, g.InWidth, 1, 1, dy, dx); }
                : () => { PoolingReference.AvgForward(g, x, y, true); PoolingReference.AvgBackward(g, dy, dx, true); };
            Action fastForward = max ? () => Pooling.MaxForward(g, x, y, argmax)
                : global ? () => AdaptivePooling.AvgForward(planes, g.InHeight, g.InWidth, 1, 1, x, y)
                : () => Pooling.AvgForward(g, x, y, true);
            Action fastBackward = max ? () => Pooling.MaxBackward(g, dy, argmax, dx)
                : global ? () => AdaptivePooling.AvgBackward(planes, g.InHeight, g.InWidth, 1, 1, dy, dx)
                : () => Pooling.AvgBackward(g, dy, dx, true);
            var times = new List<double>[] { [], [], [] };
            for (int round = 0; round < repeats + 3; round++)
            {
                double r = Timing.Milliseconds(reference), f = Timing.Milliseconds(fastForward), b = Timing.Milliseconds(fastBackward);
                if (round < 3) continue;
                times[0].Add(r); times[1].Add(f); times[2].Add(b);
            }
            double mr = Timing.Median(times[0]), mf = Timing.Median(times[1]), mb = Timing.Median(times[2]);
            Console.WriteLine($"{name}: reference fwd+bwd {mr:F2} ms; fast fwd {mf:F2} ms, bwd {mb:F2} ms, {mr / (mf + mb):F1}x");
        }
    }

}
