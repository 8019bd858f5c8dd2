using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

public class WorkerPlacementTests
{
    // On its own thread: the move restricts the thread's affinity, which must not outlive the test.
    private static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        var thread = new Thread(() => result = body());
        thread.Start();
        thread.Join();
        return result;
    }

    [Fact]
    public void AThreadOnTheCallersCoreMovesToAnotherAndStaysOff()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2) return;   // Linux only (WorkerPlacement)
        var (start, moved, after) = OnOwnThread(() =>
        {
            int here = WorkerPlacement.CurrentProcessor();
            bool move = WorkerPlacement.MoveOffCaller(here);
            int elsewhere = -1;
            for (int i = 0; i < 100; i++) { elsewhere = WorkerPlacement.CurrentProcessor(); Thread.Yield(); if (elsewhere == here) break; }
            return (here, move, elsewhere);
        });
        Assert.True(start >= 0);
        Assert.True(moved);
        Assert.NotEqual(start, after);
    }

    [Fact]
    public void AThreadElsewhereIsLeftAlone()
    {
        // No thread runs on a processor past the machine's, nor on -1 (unknown).
        Assert.False(WorkerPlacement.MoveOffCaller(Environment.ProcessorCount + 3));
        Assert.False(WorkerPlacement.MoveOffCaller(-1));
        Assert.False(WorkerPlacement.MoveOffCaller(1 << 20));
    }
}
