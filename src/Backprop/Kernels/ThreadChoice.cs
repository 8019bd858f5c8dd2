namespace Backprop.Kernels;

/// <summary>
/// Whether small inference calls (batch-1 convolutions, up to <see cref="MaxOutput"/> output floats) run on the kernel
/// threads or on the calling thread alone, chosen by timing both. On this project's 2-core VM the cores move between near
/// (a job handed over in 0.3-0.4 µs) and far (1.3-1.5 µs): far, ResNet-20's batch-1 forward ran 0.94x as long with
/// every small convolution on one thread as on two, while near, two threads won. No fixed rule fits both, so the
/// process measures: windows of <see cref="Window"/> small calls alternate between the two ways
/// (<see cref="Rounds"/> of each), the faster mean time per call is kept for <see cref="Exploit"/> calls, and then it
/// measures again (the cores move over minutes). The choice is one for all layers, not one per layer: per layer, each
/// timing depends on where the layers around it ran (their output in one core's cache or split between two), and
/// per-layer choices measured 1.06x slower than either way alone. Windows of hundreds of calls hold nearly the same mix
/// of layers. The bits are the same either way: every kernel's partition sums each output in the same order for any
/// thread count (<see cref="KernelThreads"/>). Calls from several threads at once may blur a measurement, never a result.
/// </summary>
internal sealed class ThreadChoice
{
    /// <summary>Output floats up to which a call is small (ResNet-20's batch-1 layers: 16K at most).</summary>
    public const long MaxOutput = 1 << 16;

    /// <summary>Small calls per measuring window, windows of each way per measurement, calls between measurements, and
    /// calls before the first (the JIT's first tiers would time the code, not the threads).</summary>
    internal const int Window = 256, Rounds = 4, Exploit = 1 << 14, WarmUp = 4096;
    private const int Measuring = 2 * Rounds * Window;

    /// <summary>The process's choice, shared by every layer.</summary>
    public static readonly ThreadChoice Shared = new();

    private readonly object gate = new();
    private long calls = -WarmUp;   // small calls since measuring last began (negative: still warming up, not timed)
    private long serialTicks, threadedTicks, serialCalls, threadedCalls;
    private volatile bool serialWins;

    /// <summary>Whether the last measurement chose the calling thread alone (threads until the first one).</summary>
    public bool SerialWins => serialWins;

    /// <summary>Whether this small call runs serially, and whether it is timed (a measuring window's call).</summary>
    public bool Next(out bool timed)
    {
        long c = Interlocked.Increment(ref calls) - 1;
        timed = c >= 0 && c < Measuring;
        if (timed) return c / Window % 2 == 0;
        if (c >= Measuring + Exploit) Interlocked.Exchange(ref calls, 0);
        return c >= 0 && serialWins;
    }

    /// <summary>The time of a timed call; the measurement's last call makes the choice.</summary>
    public void Record(bool serial, long ticks)
    {
        lock (gate)
        {
            if (serial) { serialTicks += ticks; serialCalls++; }
            else { threadedTicks += ticks; threadedCalls++; }
            if (serialCalls + threadedCalls < Measuring) return;
            if (serialCalls > 0 && threadedCalls > 0)
                serialWins = (double)serialTicks / serialCalls < (double)threadedTicks / threadedCalls;
            serialTicks = threadedTicks = serialCalls = threadedCalls = 0;
        }
    }
}
