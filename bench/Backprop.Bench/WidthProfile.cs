using System.Globalization;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20's training kernels (batch 128) one by one, through <see cref="AbCases"/>: min ms per call and per
/// step (times the count of such layers in the net). Run it once with the runtime's AVX-512 on and once with
/// <c>DOTNET_EnableAVX512=0</c> to see which kernels lose more than the halved lanes explain. BACKPROP_AB_CLOCK=cpu
/// times the process's CPU time (with BACKPROP_NUM_THREADS=1: steadier than wall time on a loaded machine).
/// </summary>
internal static class WidthProfile
{
    // (case, layers of this shape in ResNet-20); conv: N,C,H,W,K,kernel,stride,pad
    private static readonly (string Case, int Count)[] Cases =
    [
        ("conv:128,3,32,32,16,3,1,1:fwd", 1), ("conv:128,3,32,32,16,3,1,1:bwdW", 1),
        ("conv:128,16,32,32,16,3,1,1:fwd", 6), ("conv:128,16,32,32,16,3,1,1:bwdData", 6), ("conv:128,16,32,32,16,3,1,1:bwdW", 6),
        ("conv:128,16,32,32,32,3,2,1:fwd", 1), ("conv:128,16,32,32,32,3,2,1:bwdData", 1), ("conv:128,16,32,32,32,3,2,1:bwdW", 1),
        ("conv:128,16,32,32,32,1,2,0:fwd", 1), ("conv:128,16,32,32,32,1,2,0:bwdData", 1), ("conv:128,16,32,32,32,1,2,0:bwdW", 1),
        ("conv:128,32,16,16,32,3,1,1:fwd", 5), ("conv:128,32,16,16,32,3,1,1:bwdData", 5), ("conv:128,32,16,16,32,3,1,1:bwdW", 5),
        ("conv:128,32,16,16,64,3,2,1:fwd", 1), ("conv:128,32,16,16,64,3,2,1:bwdData", 1), ("conv:128,32,16,16,64,3,2,1:bwdW", 1),
        ("conv:128,32,16,16,64,1,2,0:fwd", 1), ("conv:128,32,16,16,64,1,2,0:bwdData", 1), ("conv:128,32,16,16,64,1,2,0:bwdW", 1),
        ("conv:128,64,8,8,64,3,1,1:fwd", 5), ("conv:128,64,8,8,64,3,1,1:bwdData", 5), ("conv:128,64,8,8,64,3,1,1:bwdW", 5),
        ("bn:128,16,32,32:bnrelu:fwd", 4), ("bn:128,16,32,32:bnrelu:bwd", 4), ("bn:128,16,32,32:bnaddrelu:fwd", 3), ("bn:128,16,32,32:bnaddrelu:bwd", 3),
        ("bn:128,32,16,16:bnrelu:fwd", 3), ("bn:128,32,16,16:bnrelu:bwd", 3), ("bn:128,32,16,16:bnaddrelu:fwd", 3), ("bn:128,32,16,16:bnaddrelu:bwd", 3),
        ("bn:128,64,8,8:bnrelu:fwd", 3), ("bn:128,64,8,8:bnrelu:bwd", 3), ("bn:128,64,8,8:bnaddrelu:fwd", 3), ("bn:128,64,8,8:bnaddrelu:bwd", 3),
    ];

    public static void Run(int rounds, string filter)
    {
        bool cpu = Environment.GetEnvironmentVariable("BACKPROP_AB_CLOCK") == "cpu" && CpuClock.Available;
        Console.WriteLine($"{(cpu ? "process CPU time" : "wall time")}, threads {KernelThreads.Count}, SIMD {SimdWidth.Max} bits (hardware {SimdWidth.Hardware}); min ms of {rounds} after 1.5 s of warm-up calls");
        double total = 0;
        foreach (var (name, count) in Cases.Where(c => c.Case.Contains(filter, StringComparison.Ordinal)))
        {
            Action body = AbCases.Make(name);
            // Past the JIT's tiers: a kernel's outer loops (called once per image) stay in tier-0 code for the first
            // 30 calls and 100 ms after, so two warm-up calls timed the stride-2 backward-data 3.5x slow on AVX2.
            var warm = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 2 || warm.ElapsedMilliseconds < 1500; i++) body();
            // the minimum: on a shared machine the other processes only ever add time
            double ms = Enumerable.Range(0, rounds).Select(_ => cpu ? CpuMilliseconds(body) : Timing.Milliseconds(body)).Min();
            total += ms * count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WIDTH {name,-42} x{count}  {ms,8:F3}  {ms * count,8:F2}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WIDTH total per step {total,8:F2}"));
    }

    private static double CpuMilliseconds(Action body)
    {
        long start = CpuClock.Nanoseconds();
        body();
        return (CpuClock.Nanoseconds() - start) / 1e6;
    }
}
