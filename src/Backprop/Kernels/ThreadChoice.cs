using System.Diagnostics;

namespace Backprop.Kernels;

/// <summary>
/// Whether small inference calls (batch-1 convolutions, up to <see cref="MaxOutput"/> output floats) run on the kernel
/// threads or on the calling thread alone, chosen by timing both. On this project's 2-core VM the cores move between near
/// (a job handed over in 0.3-0.4 µs) and far (1.3-1.5 µs): far, ResNet-20's batch-1 forward ran 0.94x as long with
/// every small convolution on one thread as on two, while near, two threads won; LeNet's convolutions won on two either
/// way. No fixed rule fits all of these, so the process measures: windows of <see cref="Window"/> small calls alternate
/// between the two ways (<see cref="Rounds"/> of each), the faster mean time per call is kept, and a while later it
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

    /// <summary>Small calls per measuring window, and windows of each way per measurement.</summary>
    internal const int Window = 128, Rounds = 4;
    internal const int Measuring = 2 * Rounds * Window;

    /// <summary>
    /// The process's choice, shared by every layer. It first measures 2 s after its first small call (before that the
    /// JIT's first tiers time the code rather than the threads: a measurement 80 ms in chose the calling thread for LeNet,
    /// whose convolutions run faster on two), and then every 2 s of calls: a measurement is about 1,000 calls (ResNet-20:
    /// about 50 forwards), half of them the slower way.
    /// </summary>
    public static readonly ThreadChoice Shared = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));

    private readonly object gate = new();
    private readonly long warmUpTicks, intervalTicks;
    private long nextMeasurement;   // Stopwatch timestamp from which the next measurement starts (0: no call yet)
    private volatile bool measuring;
    private long calls;             // calls of the current measurement
    private long serialTicks, threadedTicks, serialCalls, threadedCalls;
    private volatile bool serialWins;

    /// <summary>A choice that runs on the threads, untimed, for <paramref name="warmUp"/> after its first call, and then
    /// measures every <paramref name="interval"/>.</summary>
    public ThreadChoice(TimeSpan warmUp, TimeSpan interval)
    {
        warmUpTicks = (long)(warmUp.TotalSeconds * Stopwatch.Frequency);
        intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Whether the last measurement chose the calling thread alone (threads until the first one).</summary>
    public bool SerialWins => serialWins;

    /// <summary>Whether this small call runs serially, and whether it is timed (a measuring window's call).</summary>
    public bool Next(out bool timed)
    {
        timed = false;
        if (!measuring)
        {
            long now = Stopwatch.GetTimestamp();
            if (Interlocked.CompareExchange(ref nextMeasurement, now + warmUpTicks, 0) == 0 && warmUpTicks > 0) return false;
            if (now < Interlocked.Read(ref nextMeasurement)) return serialWins;
            lock (gate)
                if (!measuring && now >= Interlocked.Read(ref nextMeasurement))
                {
                    Interlocked.Exchange(ref calls, 0);
                    measuring = true;
                }
        }
        long c = Interlocked.Increment(ref calls) - 1;
        if (c >= 2 * Measuring) Abandon();       // timed calls that never reported (a caller that ran nothing): measure later
        if (c >= Measuring) return serialWins;   // the measurement's last calls are still running
        timed = true;
        return c / Window % 2 == 0;
    }

    private void Abandon()
    {
        lock (gate)
        {
            if (!measuring) return;
            serialTicks = threadedTicks = serialCalls = threadedCalls = 0;
            Interlocked.Exchange(ref nextMeasurement, Stopwatch.GetTimestamp() + intervalTicks);
            measuring = false;
        }
    }

    /// <summary>The time of a timed call; the measurement's last call makes the choice.</summary>
    public void Record(bool serial, long ticks)
    {
        lock (gate)
        {
            if (!measuring) return;
            if (serial) { serialTicks += ticks; serialCalls++; }
            else { threadedTicks += ticks; threadedCalls++; }
            if (serialCalls + threadedCalls < Measuring) return;
            if (serialCalls > 0 && threadedCalls > 0)
                serialWins = (double)serialTicks / serialCalls < (double)threadedTicks / threadedCalls;
            serialTicks = threadedTicks = serialCalls = threadedCalls = 0;
            Interlocked.Exchange(ref nextMeasurement, Stopwatch.GetTimestamp() + intervalTicks);
            measuring = false;
        }
    }
}
