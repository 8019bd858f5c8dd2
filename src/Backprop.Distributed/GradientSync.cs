using System.Diagnostics;

namespace Backprop.Distributed;

/// <summary>
/// Averages a set of parameters' gradients over the ranks once per backward pass, in buckets
/// (<see cref="GradientAverager"/>). With <c>overlap</c>, each parameter's post-accumulate-grad hook counts its
/// bucket down and a complete bucket is sent (MPI_Iallreduce) while backward goes on with earlier layers; the last
/// gradient of backward completes the average. Buckets are always sent in the same order on every rank, so every
/// rank issues the same collectives. <see cref="Finish"/> after backward is always right: it does nothing when the
/// average is complete, sends what backward did not (parameters without a gradient count as zero), and is the whole
/// average without overlap. <see cref="DistributedDataParallel"/> and Caffe's data-parallel solver use it.
/// </summary>
public sealed class GradientSync : IDisposable
{
    private readonly Communicator communicator;
    private readonly GradientAverager averager;
    private readonly Dictionary<Tensor, int> bucketOf = new(ReferenceEqualityComparer.Instance);
    private readonly int[] missing;          // gradients each bucket still waits for in this backward pass
    private readonly PendingAllreduce?[] pending;
    private readonly List<IDisposable> hooks = [];
    private int nextToSend;
    private long communicationTicks;

    public GradientSync(Communicator communicator, IEnumerable<Tensor> parameters, int bucketBytes = GradientAverager.DefaultBucketBytes, bool overlap = true)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        this.communicator = communicator;
        Overlap = overlap;
        averager = new GradientAverager(communicator, parameters, bucketBytes);
        missing = new int[averager.BucketCount];
        pending = new PendingAllreduce?[averager.BucketCount];
        for (int b = 0; b < averager.BucketCount; b++)
            foreach (var p in averager.Bucket(b)) bucketOf[p] = b;
        if (overlap)
            foreach (var p in bucketOf.Keys) hooks.Add(p.RegisterPostAccumulateGradHook(OnGradientReady));
        Reset();
    }

    /// <summary>Whether buckets are sent during backward.</summary>
    public bool Overlap { get; }

    /// <summary>How many all-reduces one step sends.</summary>
    public int BucketCount => averager.BucketCount;

    /// <summary>True while a backward pass has started sending and the average is not complete.</summary>
    public bool InProgress { get; private set; }

    /// <summary>Time this rank spent in the all-reduces (starting, polling and waiting), including waiting for slower ranks.</summary>
    public TimeSpan CommunicationTime => Stopwatch.GetElapsedTime(0, communicationTicks);

    /// <summary>Completes the average of every gradient over the ranks (every rank calls it after backward).</summary>
    public void Finish()
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            if (!Overlap) averager.Average();
            else if (InProgress)
            {
                while (nextToSend < pending.Length) Send(nextToSend);
                Complete();
            }
        }
        finally { communicationTicks += Stopwatch.GetTimestamp() - start; }
    }

    /// <summary>Removes the gradient hooks from the parameters.</summary>
    public void Dispose()
    {
        foreach (var hook in hooks) hook.Dispose();
        hooks.Clear();
    }

    private void OnGradientReady(Tensor parameter)
    {
        long start = Stopwatch.GetTimestamp();
        int b = bucketOf[parameter];
        InProgress = true;
        if (missing[b] == 0)
            throw new InvalidOperationException(
                "A parameter received a second gradient before the ranks' average was complete (two backward passes in one step?). " +
                "Gradients are averaged once per backward pass: call Finish() after each backward, or average without overlap.");
        missing[b]--;
        // Send, in bucket order, every bucket that is complete; poll the ones in flight so MPI moves them on.
        while (nextToSend < pending.Length && missing[nextToSend] == 0) Send(nextToSend);
        for (int i = 0; i < nextToSend; i++) pending[i]?.Test();
        if (nextToSend == pending.Length) Complete();
        communicationTicks += Stopwatch.GetTimestamp() - start;
    }

    private void Send(int bucket)
    {
        averager.Gather(bucket);
        missing[bucket] = 0;
        pending[bucket] = communicator.StartAllreduceSum(averager.Buffer(bucket));
        nextToSend = bucket + 1;
    }

    private void Complete()
    {
        for (int b = 0; b < pending.Length; b++)
        {
            pending[b]!.Wait();
            averager.Scatter(b);
        }
        Reset();
    }

    private void Reset()
    {
        for (int b = 0; b < missing.Length; b++)
        {
            missing[b] = averager.Bucket(b).Count;
            pending[b] = null;
        }
        nextToSend = 0;
        InProgress = false;
    }
}
