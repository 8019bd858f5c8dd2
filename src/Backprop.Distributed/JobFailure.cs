namespace Backprop.Distributed;

/// <summary>
/// Ends an MPI job when one rank fails, so the other ranks, which would wait for it in the next all-reduce forever,
/// stop within moments: the failure is written to standard error, naming the rank and where it happened, and
/// MPI_Abort terminates every rank (the launcher then exits non-zero).
/// </summary>
public static class JobFailure
{
    /// <summary>Writes "rank R failed at WHERE: message" and aborts the job. Does not return.</summary>
    public static void Abort(Communicator communicator, Exception error, string where, int errorCode = 1)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(error);
        Console.Error.WriteLine($"rank {communicator.Rank} of {communicator.Size} failed at {where}: {error.Message}");
        Console.Error.WriteLine($"Ending the whole MPI job (MPI_Abort, code {errorCode}) so the other ranks do not wait for rank {communicator.Rank}.");
        communicator.Abort(errorCode);
    }
}
