namespace Backprop.Distributed;

/// <summary>
/// Ends an MPI job when one rank fails, so the other ranks, which would wait for it in the next all-reduce forever,
/// stop within moments: the failure is written to standard error, naming the rank and where it happened, and
/// MPI_Abort terminates every rank (the launcher then exits non-zero).
/// </summary>
public static class JobFailure
{
    private static readonly TimeSpan ForwardingGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>Writes "rank R failed at WHERE: message" and aborts the job. Does not return.</summary>
    public static void Abort(Communicator communicator, Exception error, string where, int errorCode = 1)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(error);
        Console.Error.WriteLine($"rank {communicator.Rank} of {communicator.Size} failed at {where}: {error.Message}");
        Console.Error.WriteLine($"Ending the whole MPI job (MPI_Abort, code {errorCode}) so the other ranks do not wait for rank {communicator.Rank}.");
        Console.Error.Flush();
        // MPICH's launcher forwards a rank's standard error asynchronously and stops forwarding once the abort tears the
        // job down: without a moment's grace the lines above were sometimes lost, leaving a failed job with no reason.
        Thread.Sleep(ForwardingGrace);
        communicator.Abort(errorCode);
    }
}
