using System.CommandLine;
using System.Runtime.InteropServices;
using Backprop.Caffe;

namespace Backprop.Cli;

/// <summary>
/// Turns signals into training actions while a command trains, as caffe's <c>-sigint_effect</c> and
/// <c>-sighup_effect</c>: SIGINT (Ctrl-C) and SIGTERM take the interrupt effect (stop by default), SIGHUP the
/// hang-up effect (snapshot by default). Once a stop is pending, a second SIGINT or SIGTERM ends the process at once.
/// </summary>
internal sealed class TrainingSignals : IDisposable
{
    private readonly List<PosixSignalRegistration> registrations = [];
    private readonly CancellationTokenSource stop = new();
    private readonly SolverAction interrupt, hangup;
    private int stopping;   // 1 once a stop was asked for

    /// <summary>Handles SIGINT and SIGTERM with <paramref name="interrupt"/>, and SIGHUP with <paramref name="hangup"/> when given (else SIGHUP keeps its default effect).</summary>
    public TrainingSignals(SolverAction interrupt, SolverAction? hangup)
    {
        this.interrupt = interrupt;
        this.hangup = hangup ?? SolverAction.None;
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle));
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle));
        if (hangup is not null && !OperatingSystem.IsWindows()) registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, Handle));
    }

    /// <summary>The actions asked for so far; a solver polls <see cref="SolverActionRequests.Take"/>.</summary>
    public SolverActionRequests Requests { get; } = new();

    /// <summary>Cancelled when a stop is asked for (for training loops that take a token).</summary>
    public CancellationToken Stop => stop.Token;

    /// <summary>The <c>--sigint-effect</c> option (stop, snapshot or none).</summary>
    public static Option<string> InterruptOption() => EffectOption("--sigint-effect",
        "What SIGINT (Ctrl-C) and SIGTERM do: stop (finish the iteration, snapshot, write the log, exit 0), snapshot (and go on) or none (ignored).", "stop");

    /// <summary>The <c>--sighup-effect</c> option (stop, snapshot or none).</summary>
    public static Option<string> HangupOption() => EffectOption("--sighup-effect",
        "What SIGHUP does: stop, snapshot (and go on) or none (ignored).", "snapshot");

    /// <summary>An effect option's value as a solver action.</summary>
    public static SolverAction Parse(string effect) => effect switch
    {
        "stop" => SolverAction.Stop,
        "snapshot" => SolverAction.Snapshot,
        "none" => SolverAction.None,
        _ => throw new ArgumentException($"A signal effect must be stop, snapshot or none, got '{effect}'."),
    };

    private static Option<string> EffectOption(string name, string description, string fallback)
    {
        var option = new Option<string>(name, CaffeArguments.Aliases(name)) { Description = description, DefaultValueFactory = _ => fallback };
        option.AcceptOnlyFromAmong("stop", "snapshot", "none");
        return option;
    }

    // Runs on a thread of its own per signal (SIGINT, SIGTERM), so two signals may race: the exchange decides which is first.
    private void Handle(PosixSignalContext context)
    {
        bool ending = context.Signal != PosixSignal.SIGHUP;
        var action = ending ? interrupt : hangup;
        if (ending && Volatile.Read(ref stopping) != 0) return;   // not cancelled: the default effect ends the process now
        if (action == SolverAction.Stop && Interlocked.Exchange(ref stopping, 1) != 0 && ending) return;
        context.Cancel = true;
        if (action == SolverAction.Stop)
        {
            Console.Error.WriteLine($"Received {context.Signal}: stopping after this iteration (send it again to quit at once).");
            Requests.Request(action);
            stop.Cancel();
        }
        else if (action == SolverAction.Snapshot)
        {
            Console.Error.WriteLine($"Received {context.Signal}: snapshotting after this iteration.");
            Requests.Request(action);
        }
    }

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
    }
}
