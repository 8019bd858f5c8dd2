using System.Buffers;

namespace Backprop.Distributed;

/// <summary>An all-reduce started with <see cref="Communicator.StartAllreduceSum"/>; its buffer stays pinned until <see cref="Wait"/>.</summary>
public sealed class PendingAllreduce : IDisposable
{
    private readonly Communicator communicator;
    private MemoryHandle pin;
    private long request;
    private bool done;

    internal PendingAllreduce(Communicator communicator, MemoryHandle pin, long request)
    {
        this.communicator = communicator;
        this.pin = pin;
        this.request = request;
    }

    /// <summary>Blocks until the sum has arrived in the buffer, then unpins it.</summary>
    public void Wait()
    {
        if (done) return;
        done = true;
        try { communicator.Wait(ref request); }
        finally { pin.Dispose(); }
    }

    /// <summary>
    /// True once the sum has arrived (then the buffer is unpinned, as after <see cref="Wait"/>). Calling it now and
    /// then also lets MPI move the transfer on: most transports progress only inside MPI calls.
    /// </summary>
    public bool Test()
    {
        if (done) return true;
        if (!communicator.Test(ref request)) return false;
        done = true;
        pin.Dispose();
        return true;
    }

    /// <summary>Waits if <see cref="Wait"/> was not called: MPI may still write into the buffer until then.</summary>
    public void Dispose() => Wait();
}
