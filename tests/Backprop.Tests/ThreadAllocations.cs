namespace Backprop.Tests;

/// <summary>Measures the managed bytes an action allocates on the calling thread (the readers under test are synchronous).</summary>
internal static class ThreadAllocations
{
    /// <summary>Runs <paramref name="action"/>, expecting it to throw <typeparamref name="T"/>; returns the exception and the bytes allocated.</summary>
    public static (T Error, long Bytes) Throws<T>(Action action) where T : Exception
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        T? error = null;
        try { action(); }
        catch (T e) { error = e; }
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(error is not null, $"expected {typeof(T).Name}, but nothing was thrown");
        return (error!, bytes);
    }

    /// <summary>Bytes allocated on this thread by <paramref name="action"/>.</summary>
    public static long Of(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>The bound the readers keep on hostile input: twice the file's size plus 1 MiB of fixed overhead.</summary>
    public static long Bound(long fileBytes) => 2 * fileBytes + (1 << 20);
}
