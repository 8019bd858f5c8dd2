namespace Backprop.Kernels;

/// <summary>
/// The kernels' worker threads. Work is split into a fixed partition that depends only on the
/// amount of work and <see cref="Count"/>, never on scheduling, so results are repeatable.
/// </summary>
public static class KernelThreads
{
    private static int s_count = ReadEnvironment();

    [ThreadStatic] private static bool t_inWorker;

    /// <summary>
    /// Number of worker threads: the environment variable BACKPROP_NUM_THREADS if set, else
    /// <see cref="Environment.ProcessorCount"/>. Settable (tests use 1 and 2).
    /// </summary>
    public static int Count
    {
        get => s_count;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "KernelThreads.Count must be at least 1.");
            s_count = value;
        }
    }

    /// <summary>True on a thread that is running a <see cref="For"/> body.</summary>
    public static bool InWorker => t_inWorker;

    /// <summary>
    /// Runs body(start, end) over [0, count) split into min(count, Count) contiguous chunks:
    /// chunk i is [i*count/p, (i+1)*count/p). A call from inside a worker runs serially
    /// (one body call over the whole range). A single chunk runs inline on the calling thread.
    /// </summary>
    public static void For(int count, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        int parts = Math.Min(count, s_count);
        if (t_inWorker || parts <= 1)
        {
            body(0, count);
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = parts };
        try
        {
            Parallel.For(0, parts, options, i =>
            {
                int start = (int)((long)i * count / parts);
                int end = (int)((long)(i + 1) * count / parts);
                bool was = t_inWorker;
                t_inWorker = true;
                try { body(start, end); }
                finally { t_inWorker = was; }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private static int ReadEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable("BACKPROP_NUM_THREADS");
        if (!string.IsNullOrWhiteSpace(text) && int.TryParse(text.Trim(), out int n) && n >= 1)
            return n;
        return Math.Max(1, Environment.ProcessorCount);
    }
}
