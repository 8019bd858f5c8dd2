using Backprop.Detection;
using Backprop.Tests.IO;

namespace Backprop.Tests.Detection;

/// <summary>Detection training stopped through its token: it ends after the iteration and returns, as Ctrl-C in <c>detect train</c> needs.</summary>
public sealed class DetectionCancellationTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private sealed class Progress(Action<DetectionProgress> report) : IProgress<DetectionProgress>
    {
        public void Report(DetectionProgress value) => report(value);
    }

    [Fact]
    public void ACancelledTrainingStopsAfterTheIterationAndReturns()
    {
        string root = Path.Combine(dir.Path, "voc");
        SyntheticShapes.WriteVoc(root, trainCount: 8, testCount: 1, seed: 3, imageSize: 64);
        var data = new VocDataset(root, "trainval");
        var model = FasterRcnn.Create(new FasterRcnnConfig { Classes = data.Classes, AnchorSizes = [9f, 18f, 36f], ImageSize = 64 }, seed: 1);
        using var source = new CancellationTokenSource();
        int reported = 0, epochsEnded = 0;
        var options = new DetectionTrainingOptions { Epochs = 3, BatchSize = 2, WarmupIterations = 1 };
        int iterations = DetectionTraining.Train(model, data, options,
            new Progress(p => { reported = p.Iteration; if (p.Iteration == 2) source.Cancel(); }), _ => epochsEnded++, source.Token);
        Assert.Equal(2, iterations);
        Assert.Equal(2, reported);
        Assert.Equal(0, epochsEnded);   // the partial epoch is not reported as done
    }
}
