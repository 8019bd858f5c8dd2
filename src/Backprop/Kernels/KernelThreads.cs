namespace Backprop.Kernels;

/// <summary>
/// The kernels' worker threads. Work is split into a fixed partition that depends only on the
/// amount of work and <see cref="Count"/>, never on scheduling, so results are repeatable.
/// The workers are the library's own threads (not the .NET thread pool): they stay awake, spinning,
/// for a short while after each job, so the many short kernel calls of a training step are handed
/// over in well under a microsecond instead of waiting for a pool thread to wake.
/// </summary>
public static class KernelThreads
{
    // How long a worker spins for the next job before it sleeps (a training step's kernels come
    // back to back; between steps the workers sleep and leave the cores to other work).
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000;   // 200 µs

    // How often a spinning thread yields its core (50 µs). SpinWait.SpinOnce yields after a few pauses, and each yield is a
    // system call: in this VM 1.2 µs, so a worker saw a new job 1.0 µs after it was posted (median; p90 2.0 µs) and the
    // caller saw the last chunk end 1.6-1.9 µs late. Pausing: 0.8 and 1.2-1.4 µs (ResNet-20's batch-1 kernels, 2 threads).
    private static readonly long YieldTicks = System.Diagnostics.Stopwatch.Frequency / 20000;

    private static int s_count = ReadEnvironment();
    private static readonly object s_dispatch = new();
    private static readonly object s_sleep = new();
    private static readonly List<Thread> s_workers = [];
    private static Job? s_job;
    private static long s_generation;
    private static int s_sleeping;

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
    /// With <paramref name="serial"/>, every <see cref="For"/> on this thread until the scope ends runs on the calling thread
    /// alone, as inside a worker (same partition sums, so the same bits); otherwise nothing changes.
    /// </summary>
    internal static SerialScope Serially(bool serial)
    {
        bool set = serial && !t_inWorker;
        if (set) t_inWorker = true;
        return new SerialScope(set);
    }

    internal readonly struct SerialScope(bool set) : IDisposable
    {
        public void Dispose()
        {
            if (set) t_inWorker = false;
        }
    }

    /// <summary>
    /// Runs body(start, end) over [0, count) split into min(count, Count) contiguous chunks:
    /// chunk i is [i*count/p, (i+1)*count/p). A call from inside a worker runs serially
    /// (one body call over the whole range). A single chunk runs inline on the calling thread, and
    /// while another thread is using the workers the chunks run one after another on the caller.
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
        if (!Monitor.TryEnter(s_dispatch))
        {
            // Another thread's kernel holds the workers: same chunks, one by one, here.
            t_inWorker = true;
            try
            {
                for (int i = 0; i < parts; i++) body(Start(i, count, parts), Start(i + 1, count, parts));
            }
            finally { t_inWorker = false; }
            return;
        }
        try
        {
            EnsureWorkers(parts - 1);
            var job = new Job(body, count, parts, WorkerPlacement.CurrentProcessor());
            Volatile.Write(ref s_job, job);
            Interlocked.Increment(ref s_generation);
            lock (s_sleep)
                if (s_sleeping > 0) Monitor.PulseAll(s_sleep);
            t_inWorker = true;
            try { job.RunChunks(); }
            finally { t_inWorker = false; }
            // The other chunks are running (or about to).
            var wait = new PausingWait();
            while (Volatile.Read(ref job.Done) < parts) wait.Once();
            if (job.Error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(job.Error).Throw();
        }
        finally { Monitor.Exit(s_dispatch); }
    }

    private static int Start(int i, int count, int parts) => (int)((long)i * count / parts);

    private static void EnsureWorkers(int needed)
    {
        while (s_workers.Count < needed)
        {
            int index = s_workers.Count + 1;
            long generation = Interlocked.Read(ref s_generation);   // before this job's: the new worker takes part in it
            var thread = new Thread(() => WorkerLoop(index, generation)) { IsBackground = true, Name = $"Backprop kernel worker {index}" };
            s_workers.Add(thread);
            thread.Start();
        }
    }

    private static void WorkerLoop(int index, long seen)
    {
        t_inWorker = true;
        while (true)
        {
            // A worker beyond the current Count (it was lowered) gets no chunks: it goes straight back to sleep.
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + (index < s_count ? SpinTicks : 0);
            var wait = new PausingWait();
            while (Interlocked.Read(ref s_generation) == seen)
            {
                long now = wait.Once();   // a job is seen within a pause
                if (now == 0 || now < spinUntil) continue;
                lock (s_sleep)
                {
                    s_sleeping++;
                    while (Interlocked.Read(ref s_generation) == seen) Monitor.Wait(s_sleep);
                    s_sleeping--;
                }
            }
            seen = Interlocked.Read(ref s_generation);
            if (Volatile.Read(ref s_job) is not { } job) continue;
            WorkerPlacement.MoveOffCaller(job.CallerProcessor);   // else, woken on the caller's core, both may share it for milliseconds
            job.RunChunks();
        }
    }

    /// <summary>
    /// A busy wait by pauses, with a yield of the core (a system call) every <see cref="YieldTicks"/>; once a yield finds
    /// another thread waiting for the core (more threads than cores: tests run in parallel, the user's own threads), a
    /// yield on every pass until one finds none, so that the thread with the work is not kept off its core for 50 µs.
    /// </summary>
    private struct PausingWait()
    {
        private long yieldAt = System.Diagnostics.Stopwatch.GetTimestamp() + YieldTicks;
        private int passes;
        private bool crowded;

        // One pass. Returns the clock where this pass read it (every 16th pass, and every pass while crowded), else 0.
        public long Once()
        {
            if (crowded) { crowded = Thread.Yield(); return System.Diagnostics.Stopwatch.GetTimestamp(); }
            Thread.SpinWait(1);
            if ((++passes & 15) != 0) return 0;
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now > yieldAt) { crowded = Thread.Yield(); yieldAt = now + YieldTicks; }
            return now;
        }
    }

    /// <summary>One For call: its chunks are claimed by whichever thread comes first; the partition is fixed.</summary>
    private sealed class Job(Action<int, int> body, int count, int parts, int callerProcessor)
    {
        /// <summary>The core the calling thread ran on when it posted the job (-1: unknown).</summary>
        public readonly int CallerProcessor = callerProcessor;

        private int next;
        public int Done;
        public Exception? Error;

        public void RunChunks()
        {
            int i;
            while ((i = Interlocked.Increment(ref next) - 1) < parts)
            {
                try { body(Start(i, count, parts), Start(i + 1, count, parts)); }
                catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                Interlocked.Increment(ref Done);
            }
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
