using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// Moves a kernel worker off the core its caller runs on. Linux wakes a sleeping thread on the waker's core when it sees
/// no cache shared between cores (virtual machines such as this Firecracker guest report none): the worker and the
/// caller then take turns on one core while the other idles, until the load balancer parts them, milliseconds later.
/// After a 20 ms pause, twenty back-to-back calls of two 11 µs chunks each took the one-thread time (22 µs), worker and
/// caller on one core in 50-59 of 60 trials; with the move, 11 µs from the fifth call on (the first ones wait for the
/// idle core to wake). A worker that finds itself on its caller's core restricts itself to the process's other cores
/// (the kernel moves it at once) and stays so until it meets its caller again. Linux only, through the C library's
/// <c>sched_getcpu</c> and <c>sched_setaffinity</c>; elsewhere, or where a call fails, nothing is done.
/// </summary>
internal static unsafe partial class WorkerPlacement
{
    private const int MaskWords = 16;   // 1024 processors

    // The cores the process may use, read once; null where they cannot be read or there is only one.
    private static readonly ulong[]? s_allowed = ReadAllowed();
    private static volatile bool s_failed;

    /// <summary>The processor the calling thread runs on, or -1 where it cannot be read.</summary>
    public static int CurrentProcessor() => s_allowed is null || s_failed ? -1 : GetCpu();

    /// <summary>
    /// When the calling thread runs on <paramref name="callerProcessor"/>, restricts it to the process's other allowed
    /// cores. Returns whether it did.
    /// </summary>
    public static bool MoveOffCaller(int callerProcessor)
    {
        if (s_allowed is null || s_failed || (uint)callerProcessor >= MaskWords * 64 || GetCpu() != callerProcessor) return false;
        ulong* mask = stackalloc ulong[MaskWords];
        bool any = false;
        for (int i = 0; i < MaskWords; i++)
        {
            mask[i] = s_allowed[i] & (i == callerProcessor / 64 ? ~(1UL << (callerProcessor % 64)) : ~0UL);
            any |= mask[i] != 0;
        }
        if (!any) return false;
        if (SetAffinity(0, MaskWords * sizeof(ulong), mask) == 0) return true;
        s_failed = true;   // a sandbox that forbids it: the workers stay where the scheduler puts them
        return false;
    }

    private static ulong[]? ReadAllowed()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var mask = new ulong[MaskWords];
            fixed (ulong* p = mask)
                if (GetAffinity(0, MaskWords * sizeof(ulong), p) != 0 || GetCpu() < 0) return null;
            int count = 0;
            foreach (ulong word in mask) count += System.Numerics.BitOperations.PopCount(word);
            return count > 1 ? mask : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    // pid 0: the calling thread. sched_getcpu reads the vDSO: no system call, safe without a GC transition.
    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    [SuppressGCTransition]
    private static partial int GetCpu();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SetAffinity(int pid, nint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static partial int GetAffinity(int pid, nint size, ulong* mask);
}
