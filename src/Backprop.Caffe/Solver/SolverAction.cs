namespace Backprop.Caffe;

/// <summary>What a running solver is asked to do between iterations (Caffe's <c>SolverAction</c>).</summary>
public enum SolverAction
{
    /// <summary>Go on training.</summary>
    None,

    /// <summary>Finish the current iteration, snapshot it and return from <see cref="CaffeSolver.Solve"/>.</summary>
    Stop,

    /// <summary>Snapshot the current iteration and go on.</summary>
    Snapshot,
}

/// <summary>
/// Requests from another thread (a signal handler, a UI) that <see cref="CaffeSolver"/> takes between iterations
/// through <see cref="CaffeSolver.ActionRequested"/>: set that to <see cref="Take"/>. Thread-safe. A stop outranks
/// a snapshot; snapshot requests made before one is taken count as one, as Caffe's flags do.
/// </summary>
public sealed class SolverActionRequests
{
    private int stop;
    private int snapshot;

    /// <summary>Asks for <paramref name="action"/> (<see cref="SolverAction.None"/> does nothing).</summary>
    public void Request(SolverAction action)
    {
        if (action == SolverAction.Stop) Volatile.Write(ref stop, 1);
        else if (action == SolverAction.Snapshot) Volatile.Write(ref snapshot, 1);
    }

    /// <summary>True once a stop was requested.</summary>
    public bool StopRequested => Volatile.Read(ref stop) != 0;

    /// <summary>The next pending action, removing it (a stop stays pending), or <see cref="SolverAction.None"/>.</summary>
    public SolverAction Take()
    {
        if (StopRequested) return SolverAction.Stop;
        return Interlocked.Exchange(ref snapshot, 0) != 0 ? SolverAction.Snapshot : SolverAction.None;
    }
}
