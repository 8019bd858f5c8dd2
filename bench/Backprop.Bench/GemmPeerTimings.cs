using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Backprop.Bench;

/// <summary>
/// SGEMM against OpenBLAS in one process (bench/kernels/run.sh): Backprop's <see cref="Kernels.Gemm.Sgemm"/> and
/// OpenBLAS's <c>cblas_sgemm</c> (the system's library, loaded here, held to one thread) on the same matrices, in
/// rounds that alternate which side goes first. Each round times a batch of calls per side (about 40 ms of them), so
/// one figure is a mean over many calls, and the two sides of a round see the same machine: on this shared VM a
/// process-to-process comparison of 0.2 ms calls moved by ±15% from run to run. Prints, per shape, the median over
/// rounds of each side's ms per call and GFLOPS, and the median of the rounds' ratios (OpenBLAS time / Backprop time:
/// at least 1 when Backprop is as fast), after checking that both sides computed the same product.
/// </summary>
internal static unsafe class GemmPeerTimings
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    public static void Run(string library, int rounds)
    {
        if (rounds < 1) throw new ArgumentException($"gemm-peer: rounds must be at least 1, got {rounds}.");
        var handle = NativeLibrary.Load(library);
        var sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(handle, "cblas_sgemm");
        var setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(handle, "openblas_set_num_threads");
        var coreName = (delegate* unmanaged<sbyte*>)NativeLibrary.GetExport(handle, "openblas_get_corename");
        setThreads(1);
        Console.WriteLine($"peer: {library}, kernels {new string(coreName())}, 1 thread; Backprop on {Kernels.KernelThreads.Count} kernel thread(s); {rounds} rounds");
        Console.WriteLine($"{"case",-22} {"BP ms",9} {"peer ms",9} {"BP GFLOPS",10} {"peer GFLOPS",12} {"ratio",6}  rounds' ratios (peer / BP)");
        foreach (int s in new[] { 256, 512, 1024, 2048 }) Compare($"gemm {s}x{s}x{s}", s, s, s, false, rounds, sgemm);
        Compare("gemm 36864x20x25", 36864, 20, 25, false, rounds, sgemm);
        Compare("gemm 64x500x800 NT", 64, 500, 800, true, rounds, sgemm);
    }

    private static void Compare(string name, int m, int n, int k, bool transB, int rounds,
        delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm)
    {
        var random = new Random(1);
        float[] a = Uniform(random, m * k), b = Uniform(random, k * n), ours = new float[m * n], theirs = new float[m * n];
        int ldb = transB ? k : n;
        void Backprop() => Kernels.Gemm.Sgemm(false, transB, m, n, k, 1f, a, k, b, ldb, 0f, ours, n);
        void Peer()
        {
            fixed (float* pa = a, pb = b, pc = theirs)
                sgemm(RowMajor, NoTrans, transB ? Trans : NoTrans, m, n, k, 1f, pa, k, pb, ldb, 0f, pc, n);
        }

        Backprop();
        Peer();
        double scale = theirs.Max(Math.Abs), diff = 0;
        for (int i = 0; i < ours.Length; i++) diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i]));
        if (diff > 1e-4 * scale)
            throw new InvalidOperationException($"{name}: Backprop and the peer differ by {diff} (largest value {scale}).");

        // Warm-up: the JIT's tiers settle on Backprop's side (1.5 s, as QuickTimings), the peer's caches on its own.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1500) Backprop();
        for (var w = Stopwatch.StartNew(); w.ElapsedMilliseconds < 300;) Peer();
        int calls = Math.Max(1, (int)(40 / Math.Max(MsPerCall(Backprop, 3), 1e-3)));

        var bp = new double[rounds];
        var peer = new double[rounds];
        var ratios = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 0) { bp[r] = MsPerCall(Backprop, calls); peer[r] = MsPerCall(Peer, calls); }
            else { peer[r] = MsPerCall(Peer, calls); bp[r] = MsPerCall(Backprop, calls); }
            ratios[r] = peer[r] / bp[r];
        }
        double gflop = 2.0 * m * n * k / 1e9, bpMs = Timing.Median(bp), peerMs = Timing.Median(peer);
        string each = string.Join(" ", ratios.Order().Select(v => v.ToString("F2", CultureInfo.InvariantCulture)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-22} {bpMs,9:F4} {peerMs,9:F4} {gflop / bpMs * 1e3,10:F1} {gflop / peerMs * 1e3,12:F1} {Timing.Median(ratios),6:F3}  {each}"));
    }

    private static double MsPerCall(Action body, int calls)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) body();
        return clock.Elapsed.TotalMilliseconds / calls;
    }

    private static float[] Uniform(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
