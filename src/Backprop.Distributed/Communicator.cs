using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Backprop.Distributed.Mpi;

namespace Backprop.Distributed;

/// <summary>
/// MPI_COMM_WORLD of this process's MPI job: rank, size and the collectives data-parallel training needs (all-reduce,
/// broadcast, all-gather, barrier, abort). Every call's return code is checked; a failure throws an
/// <see cref="MpiException"/> naming the call and MPI's own message. Calls are made from one thread at a time
/// (MPI_THREAD_FUNNELED: the thread that initialized MPI).
/// </summary>
public sealed unsafe class Communicator : IDisposable
{
    private const int ThreadFunneled = 1;
    // MPI counts are ints: larger buffers go in chunks of this many elements.
    private const int MaxChunk = 1 << 30;
    private static readonly Lock Gate = new();
    private static Communicator? world;
    private static bool finalized;
    private readonly MpiLibrary mpi;

    private Communicator(MpiLibrary mpi, int rank, int size, string version)
    {
        this.mpi = mpi;
        Rank = rank;
        Size = size;
        LibraryVersion = version;
    }

    /// <summary>This process's rank, 0 to <see cref="Size"/> - 1.</summary>
    public int Rank { get; }

    /// <summary>The number of processes in the job.</summary>
    public int Size { get; }

    /// <summary>True on rank 0, the rank that logs, tests and snapshots.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>Which MPI ABI was loaded.</summary>
    public MpiFlavor Flavor => mpi.Flavor;

    /// <summary>The shared library that was loaded (as found by the loader).</summary>
    public string LibraryPath => mpi.Path;

    /// <summary>The first line of MPI_Get_library_version, e.g. "Open MPI v4.1.4, ..." or "MPICH Version: 4.0.2".</summary>
    public string LibraryVersion { get; }

    /// <summary>One line for logs: ranks, library and its version.</summary>
    public string Description => $"{Size} rank{(Size == 1 ? "" : "s")}, {LibraryVersion} ({LibraryPath})";

    /// <summary>
    /// Initializes MPI (once per process) and returns MPI_COMM_WORLD. Later calls return the same communicator.
    /// Throws <see cref="MpiException"/> when no MPI library loads (saying what to install), or when the library
    /// loaded does not belong to the launcher that started the process.
    /// </summary>
    public static Communicator Initialize()
    {
        lock (Gate)
        {
            if (world is not null) return world;
            if (finalized) throw new MpiException("MPI was finalized in this process; MPI cannot be started twice in one process.");
            var mpi = MpiLibrary.Load();
            int already;
            Check(mpi, mpi.Initialized(&already), "MPI_Initialized");
            if (already == 0)
            {
                int provided;
                Check(mpi, mpi.InitThread(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
            }
            Check(mpi, mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
            int rank, size;
            Check(mpi, mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
            Check(mpi, mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
            int expected = MpiLauncher.WorldSize;
            if (MpiLauncher.Detected is { } launcher && size != expected)
                throw new MpiException(
                    $"The launcher ({launcher}) started {expected} processes but {mpi.Path} sees a job of {size}: the library " +
                    $"does not match the launcher. Start the job with the mpirun of the MPI that is loaded, or set BACKPROP_MPI_LIBRARY.");
            world = new Communicator(mpi, rank, size, ReadVersion(mpi));
            AppDomain.CurrentDomain.ProcessExit += (_, _) => world?.Dispose();
            return world;
        }
    }

    /// <summary>Sums <paramref name="values"/> element-wise over all ranks, in place: every rank gets the sum.</summary>
    public void AllreduceSum(Span<float> values) => Allreduce(values, mpi.Float, mpi.Sum, "MPI_Allreduce (float sum)");

    /// <summary>Sums <paramref name="values"/> over all ranks, in place.</summary>
    public void AllreduceSum(Span<double> values) => Allreduce(values, mpi.Double, mpi.Sum, "MPI_Allreduce (double sum)");

    /// <summary>Sums <paramref name="values"/> over all ranks, in place.</summary>
    public void AllreduceSum(Span<int> values) => Allreduce(values, mpi.Int, mpi.Sum, "MPI_Allreduce (int sum)");

    /// <summary>The element-wise maximum over all ranks, in place.</summary>
    public void AllreduceMax(Span<int> values) => Allreduce(values, mpi.Int, mpi.Max, "MPI_Allreduce (int max)");

    /// <summary>
    /// Starts summing <paramref name="values"/> over all ranks in place (MPI_Iallreduce) and returns at once; the
    /// memory stays pinned and must not be touched until <see cref="PendingAllreduce.Wait"/> returns.
    /// </summary>
    public PendingAllreduce StartAllreduceSum(Memory<float> values)
    {
        if (values.Length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(values));
        MemoryHandle pin = values.Pin();
        long request = 0;
        int rc = mpi.Iallreduce((void*)mpi.InPlace, pin.Pointer, values.Length, mpi.Float, mpi.Sum, mpi.CommWorld, &request);
        if (rc != 0)
        {
            pin.Dispose();
            Check(rc, "MPI_Iallreduce (float sum)");
        }
        return new PendingAllreduce(this, pin, request);
    }

    internal void Wait(ref long request)
    {
        fixed (long* r = &request) Check(mpi.Wait(r, (void*)mpi.StatusIgnore), "MPI_Wait");
    }

    internal bool Test(ref long request)
    {
        int flag = 0;
        fixed (long* r = &request) Check(mpi.Test(r, &flag, (void*)mpi.StatusIgnore), "MPI_Test");
        return flag != 0;
    }

    /// <summary>Copies <paramref name="values"/> from <paramref name="root"/> to every rank.</summary>
    public void Broadcast(Span<float> values, int root = 0) => Broadcast(values, mpi.Float, root);

    /// <summary>Copies <paramref name="values"/> from <paramref name="root"/> to every rank.</summary>
    public void Broadcast(Span<int> values, int root = 0) => Broadcast(values, mpi.Int, root);

    /// <summary>Copies <paramref name="values"/> from <paramref name="root"/> to every rank.</summary>
    public void Broadcast(Span<byte> values, int root = 0) => Broadcast(values, mpi.Byte, root);

    /// <summary>
    /// Gathers every rank's <paramref name="mine"/> (the same length on all ranks) into <paramref name="all"/>, rank
    /// by rank: all.Length must be Size × mine.Length.
    /// </summary>
    public void AllGather(ReadOnlySpan<byte> mine, Span<byte> all)
    {
        if (all.Length != (long)mine.Length * Size)
            throw new ArgumentException($"AllGather: the result must hold {Size} x {mine.Length} bytes, got {all.Length}.", nameof(all));
        fixed (byte* send = mine)
        fixed (byte* receive = all)
            Check(mpi.Allgather(send, mine.Length, mpi.Byte, receive, mine.Length, mpi.Byte, mpi.CommWorld), "MPI_Allgather");
    }

    /// <summary>Waits until every rank has called it.</summary>
    public void Barrier() => Check(mpi.Barrier(mpi.CommWorld), "MPI_Barrier");

    /// <summary>
    /// Ends the whole job at once (MPI_Abort): every rank is terminated and the launcher exits with
    /// <paramref name="errorCode"/>. Use it when one rank fails, so the others do not wait for it forever.
    /// </summary>
    [DoesNotReturn]
    public void Abort(int errorCode = 1)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        mpi.Abort(mpi.CommWorld, errorCode);
        Environment.Exit(errorCode);   // MPI_Abort does not return; if it ever does, end this rank anyway.
        throw new System.Diagnostics.UnreachableException();
    }

    /// <summary>Finalizes MPI (once); MPI cannot be started again in this process.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (finalized || world != this) return;
            finalized = true;
            world = null;
            int done;
            if (mpi.Finalized(&done) == 0 && done == 0) Check(mpi.FinalizeCall(), "MPI_Finalize");
        }
    }

    private void Allreduce<T>(Span<T> values, nint type, nint op, string call) where T : unmanaged
    {
        fixed (T* start = values)
            for (int offset = 0; offset < values.Length; offset += MaxChunk)
            {
                int count = Math.Min(MaxChunk, values.Length - offset);
                Check(mpi.Allreduce((void*)mpi.InPlace, start + offset, count, type, op, mpi.CommWorld), call);
            }
    }

    private void Broadcast<T>(Span<T> values, nint type, int root) where T : unmanaged
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} is not a rank of this job of {Size}.");
        fixed (T* start = values)
            for (int offset = 0; offset < values.Length; offset += MaxChunk)
                Check(mpi.Bcast(start + offset, Math.Min(MaxChunk, values.Length - offset), type, root, mpi.CommWorld), "MPI_Bcast");
    }

    private void Check(int rc, string call) => Check(mpi, rc, call);

    private static void Check(MpiLibrary mpi, int rc, string call)
    {
        if (rc == 0) return;
        throw new MpiException($"{call} failed with MPI error {rc}: {ErrorText(mpi, rc)}") { ErrorCode = rc };
    }

    internal static string ErrorText(MpiLibrary mpi, int code)
    {
        var text = new byte[8192];
        int length = 0;
        fixed (byte* buffer = text)
            if (mpi.ErrorString(code, buffer, &length) != 0) return "(no message)";
        return Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length)).TrimEnd('\0', ' ', '\n');
    }

    private static string ReadVersion(MpiLibrary mpi)
    {
        var text = new byte[8192];
        int length = 0;
        fixed (byte* buffer = text)
            if (mpi.GetLibraryVersion(buffer, &length) != 0) return mpi.Flavor.ToString();
        string version = Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length)).TrimEnd('\0');
        string first = version.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        string name = string.Join(" ", first.Split(',')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
        return name.Length > 0 ? name : mpi.Flavor.ToString();
    }
}
