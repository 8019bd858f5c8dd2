using Backprop;
using Backprop.Optim;

namespace Filters;

/// <summary>What a training run produced: the net, its first-layer filters before training, and test accuracy.</summary>
public sealed record FilterTrainingResult(FilterNet Net, Tensor InitialFilters, float TestAccuracy, float FinalLoss);

/// <summary>Trains <see cref="FilterNet"/> on <see cref="BarsAndEdges"/> with SGD and momentum.</summary>
public static class FilterTraining
{
    public static FilterTrainingResult Train(ulong seed = 1, int steps = 600, int batchSize = 32, IProgress<(int Step, float Loss)>? progress = null)
    {
        var generator = new Generator(seed);
        var net = new FilterNet(generator);
        var initial = net.Conv1.Weight.Clone();
        var optimizer = new Sgd(net.Parameters(), learningRate: 0.02f, momentum: 0.9f, weightDecay: 5e-3f);
        float loss = float.NaN;
        for (int step = 0; step < steps; step++)
        {
            var (images, labels) = BarsAndEdges.Generate(batchSize, generator);
            optimizer.ZeroGrad();
            var l = Functional.CrossEntropy(net.Forward(images), labels);
            l.Backward();
            optimizer.Step();
            loss = l.Item();
            if (float.IsNaN(loss)) throw new InvalidOperationException($"The loss became NaN at step {step}.");
            progress?.Report((step, loss));
        }
        var (testImages, testLabels) = BarsAndEdges.Generate(1000, new Generator(seed + 1000));
        float accuracy;
        using (Backprop.Autograd.Autograd.NoGrad())
            accuracy = Functional.Accuracy(net.Eval().Forward(testImages), testLabels);
        return new FilterTrainingResult(net, initial, accuracy, loss);
    }
}
