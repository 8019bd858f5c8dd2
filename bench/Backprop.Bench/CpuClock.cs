using System.Runtime.InteropServices;

namespace Backprop.Bench;

/// <summary>
/// The process's CPU time (all its threads) in nanoseconds, from the C library's clock_gettime: on a machine shared
/// with other work, the time a case spends on the CPU moves far less than its wall time does (other processes take
/// the cores, not this one's cycles). Resolution is the kernel's scheduler clock, not the 10 ms tick of /proc.
/// Linux only; <see cref="Available"/> says whether it answered.
/// </summary>
internal static partial class CpuClock
{
    private const int ProcessCpuTimeId = 2;   // CLOCK_PROCESS_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>True where the process CPU clock can be read (Linux with glibc or musl).</summary>
    public static bool Available
    {
        get
        {
            try { return OperatingSystem.IsLinux() && ClockGetTime(ProcessCpuTimeId, out _) == 0; }
            catch (DllNotFoundException) { return false; }
            catch (EntryPointNotFoundException) { return false; }
        }
    }

    /// <summary>CPU nanoseconds used by every thread of this process so far.</summary>
    public static long Nanoseconds()
    {
        if (ClockGetTime(ProcessCpuTimeId, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed.");
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }
}
