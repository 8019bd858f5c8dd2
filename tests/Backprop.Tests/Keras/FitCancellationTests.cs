using System.Runtime.InteropServices;
using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>
/// Signals this test sends to its own process reach every handler registered in it (detect train's among them), so
/// it runs alone, after the tests that run in parallel.
/// </summary>
[CollectionDefinition("ProcessSignals", DisableParallelization = true)]
public sealed class ProcessSignalsCollection;

/// <summary>Fit with a cancellation token, or Ctrl-C: Keras's stop_training set after a batch.</summary>
[Collection("ProcessSignals")]
public partial class FitCancellationTests
{
    private const int SigInt = 2, SigTerm = 15;

    // A process started in the background by a non-interactive shell inherits SIGINT ignored, and .NET then leaves it
    // ignored: the test sends SIGTERM, which Fit handles the same way, instead.
    private static int InterruptSignal()
    {
        string? ignored = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        ulong mask = ignored is null ? 0 : Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16);
        return (mask & (1UL << (SigInt - 1))) != 0 ? SigTerm : SigInt;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends SIGINT (or SIGTERM, see InterruptSignal) to this very process after a given batch, then gives the handler time to run.</summary>
    private sealed class InterruptAt(int batch) : Callback
    {
        public int Batches { get; private set; }
        public override void OnBatchEnd(int b, IReadOnlyDictionary<string, double> logs)
        {
            if (Batches++ != batch) return;
            Assert.Equal(0, Kill(Environment.ProcessId, InterruptSignal()));
            Thread.Sleep(500);   // the signal is handled on another thread
        }
    }

    [Fact]
    public void CtrlCDuringFitStopsAfterTheBatchAndReturnsTheHistorySoFar()
    {
        if (!OperatingSystem.IsLinux()) return;
        var x = Tensor.Randn(new Generator(1), 16, 3);
        var y = Tensor.Rand(new Generator(2), 16, 1);
        var model = new Sequential(6, new Dense(1, inputShape: 3));
        model.Compile(new SGD(0.01), "mse");
        var callback = new InterruptAt(batch: 5);   // epoch 1, its second batch
        var history = model.Fit(x, y, batchSize: 4, epochs: 50, shuffle: false, callbacks: [callback]);
        Assert.Equal(6, callback.Batches);   // the process lives on, and Fit stopped after the batch
        Assert.Equal([0, 1], history.Epochs);
        Assert.True(model.StopTraining);
        var again = model.Fit(x, y, batchSize: 4, epochs: 2, shuffle: false);   // the signal is Fit's only while it runs
        Assert.Equal([0, 1], again.Epochs);
    }

    private sealed class CancelAt(CancellationTokenSource source, int epoch, int batch) : Callback
    {
        private int currentEpoch;
        public int Batches { get; private set; }
        public List<int> EpochsEnded { get; } = [];
        public override void OnEpochBegin(int epoch) => currentEpoch = epoch;
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => EpochsEnded.Add(epoch);
        public override void OnBatchEnd(int b, IReadOnlyDictionary<string, double> logs)
        {
            Batches++;
            if (currentEpoch == epoch && b == batch) source.Cancel();
        }
    }

    [Fact]
    public void ACancelledFitStopsAfterTheBatchAndReturnsTheHistorySoFar()
    {
        var x = Tensor.Randn(new Generator(1), 16, 3);
        var y = Tensor.Rand(new Generator(2), 16, 1);
        var model = new Sequential(6, new Dense(1, inputShape: 3));
        model.Compile(new SGD(0), "mse");   // learning rate 0: the partial epoch's loss is a plain evaluation of its batches
        using var source = new CancellationTokenSource();
        var callback = new CancelAt(source, epoch: 1, batch: 1);
        var history = model.Fit(x, y, batchSize: 4, epochs: 5, shuffle: false, callbacks: [callback], cancellationToken: source.Token);
        Assert.Equal(4 + 2, callback.Batches);
        Assert.Equal([0, 1], history.Epochs);
        Assert.Equal([0, 1], callback.EpochsEnded);
        Assert.True(model.StopTraining);
        Assert.Equal(model.Evaluate(x.Slice(0, 8), y.Slice(0, 8))[0], history.Loss[1], 5);

        var none = model.Fit(x, y, batchSize: 4, epochs: 5, cancellationToken: source.Token);   // cancelled before it starts
        Assert.Empty(none.Epochs);
    }
}
