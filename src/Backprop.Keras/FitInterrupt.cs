using System.Runtime.InteropServices;

namespace Backprop.Keras;

/// <summary>
/// While <c>Fit</c> runs, Ctrl-C (SIGINT) or SIGTERM asks it to stop after the current batch and return the History
/// so far, instead of killing the process and losing the run; a second one ends the process at once, as usual.
/// (Nothing is printed: the library prints nothing; Fit sets StopTraining.)
/// Also stops when the caller's token is cancelled. Dispose to give the signals back.
/// </summary>
internal sealed class FitInterrupt : IDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly List<PosixSignalRegistration> registrations = [];
    private int received;

    public FitInterrupt(CancellationToken caller)
    {
        stop = CancellationTokenSource.CreateLinkedTokenSource(caller);
        if (OperatingSystem.IsBrowser() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsAndroid()) return;
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle));
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle));
    }

    /// <summary>Cancelled by the caller's token or by the first signal.</summary>
    public CancellationToken Token => stop.Token;

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Exchange(ref received, 1) != 0) return;   // the second one keeps its default effect: exit now
        context.Cancel = true;
        stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
    }
}
