using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>Fit with a cancellation token: Keras's stop_training set after a batch.</summary>
public class FitCancellationTests
{
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
        Assert.Equal(model.Evaluate(x.Slice(0, 8), y.Slice(0, 8))["loss"], history.Loss[1], 5);

        var none = model.Fit(x, y, batchSize: 4, epochs: 5, cancellationToken: source.Token);   // cancelled before it starts
        Assert.Empty(none.Epochs);
    }
}
