using System.Globalization;
using System.Runtime.CompilerServices;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// What a second core costs and gains here right now, through the kernel threads themselves: the handoff (a two-chunk
/// <see cref="KernelThreads.For"/> whose chunks only wait for each other), and a chain of layer-like passes over a 16x32x32 activation (each
/// pass reads the last one's output and writes the next, y = 0.999x + 0.001) split between the two threads by rows of
/// every channel plane (16 boundaries per buffer, as a batch-1 spatial split makes) or by whole channels (one). The host
/// moves this VM's cores: when they are far apart (a cache line took about 220 ns from one core to the other), the
/// hardware prefetchers of one thread pull lines across each row boundary from under the other and the row split lost
/// what the second core gave (4.4 µs a pass against 0.9 on one thread, in C; channels 1.1; here rows 4.6-5.1 µs, channels
/// 1.9-2.1, one thread 0.9-1.4, handoff 1.2-1.3 µs). When near, the handoff took 0.2 µs.
/// Printed by bench/onnx/run.sh before its results, so a run's batch-1 numbers come with the state they met.
/// </summary>
internal static class CoreProbe
{
    private const int Channels = 16, Side = 32, Plane = Side * Side;

    public static void Run(int rounds)
    {
        int threads = KernelThreads.Count;
        KernelThreads.Count = 2;
        try
        {
            var a = new float[Channels * Plane];
            var b = new float[Channels * Plane];
            a.AsSpan().Fill(1f);
            int arrived = 0;
            // Both chunks wait for each other: the time is the worker's pickup and the caller seeing it finish.
            Action empty = () =>
            {
                arrived = 0;
                KernelThreads.For(2, (_, _) => { Interlocked.Increment(ref arrived); while (Volatile.Read(ref arrived) < 2) Thread.SpinWait(1); });
            };
            Action rows = () => Chain(a, b, byChannels: false);
            Action channels = () => Chain(a, b, byChannels: true);
            Action one = () => { KernelThreads.Count = 1; Chain(a, b, byChannels: true); KernelThreads.Count = 2; };
            var bodies = new[] { empty, rows, channels, one };
            foreach (var body in bodies) for (int i = 0; i < 2000; i++) body();   // past tiered compilation
            var times = Timing.Interleaved(bodies, rounds, 200);
            double us(int i) => Timing.Median(times[i]) * 1000;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CORES handoff_us={us(0):F2} pass_us rows={us(1) / Passes:F2} channels={us(2) / Passes:F2} one_thread={us(3) / Passes:F2} (16x32x32, 2 threads; rows/one above 1: the row split loses)"));
        }
        finally
        {
            KernelThreads.Count = threads;
        }
    }

    private const int Passes = 8;

    // Passes passes back and forth between the buffers, each split in two chunks.
    private static void Chain(float[] a, float[] b, bool byChannels)
    {
        for (int pass = 0; pass < Passes; pass++)
        {
            float[] x = pass % 2 == 0 ? a : b, y = pass % 2 == 0 ? b : a;
            KernelThreads.For(2, (s, e) =>
            {
                for (int part = s; part < e; part++)
                    if (byChannels) Step(x, y, part * Channels / 2, (part + 1) * Channels / 2, 0, Side);
                    else Step(x, y, 0, Channels, part * Side / 2, (part + 1) * Side / 2);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Step(float[] x, float[] y, int c0, int c1, int r0, int r1)
    {
        for (int c = c0; c < c1; c++)
        {
            int start = c * Plane + r0 * Side, length = (r1 - r0) * Side;
            var source = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(x.AsSpan(start, length));
            var target = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(y.AsSpan(start, length));
            for (int i = 0; i < source.Length; i++) target[i] = source[i] * 0.999f + new System.Numerics.Vector<float>(0.001f);
        }
    }
}
