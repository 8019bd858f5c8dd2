using Backprop;
using Backprop.Optim;

namespace FiltersAndSeeds;

/// <summary>One training run: the net, its conv1 filters (20, 1, 5, 5) before and after, and the test accuracy when measured.</summary>
public sealed record LeNetRun(ulong Seed, LeNet Net, Tensor InitialFilters, Tensor Filters, float FinalLoss, float? TestAccuracy, TimeSpan Time);

/// <summary>Trains <see cref="LeNet"/> as Caffe's lenet_solver does, with a fixed learning rate: SGD, lr 0.01, momentum 0.9, weight decay 5e-4.</summary>
public static class LeNetTraining
{
    public static LeNetRun Train(ulong seed, MnistBatches train, int iterations, int batchSize = 64, MnistBatches? test = null,
        IProgress<(int Iteration, float Loss)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var net = new LeNet(new Generator(seed));
        var initial = net.Conv1.Weight.Clone();
        var optimizer = new Sgd(net.Parameters(), learningRate: 0.01f, momentum: 0.9f, weightDecay: 5e-4f, style: SgdMomentumStyle.Caffe);
        float loss = float.NaN;
        for (int it = 0; it < iterations; it++)
        {
            var (images, labels) = train.Batch(it, batchSize);
            optimizer.ZeroGrad();
            var l = Functional.CrossEntropy(net.Forward(images), labels);
            l.Backward();
            optimizer.Step();
            loss = l.Item();
            if (float.IsNaN(loss)) throw new InvalidOperationException($"Seed {seed}: the loss became NaN at iteration {it}.");
            progress?.Report((it, loss));
        }
        float? accuracy = null;
        if (test is not null)
        {
            net.Eval();
            using (Backprop.Autograd.Autograd.NoGrad())
            {
                double correct = 0;
                for (int b = 0; b < test.Count / 100; b++)
                {
                    var (images, labels) = test.Batch(b, 100);
                    correct += Functional.Accuracy(net.Forward(images), labels) * 100;
                }
                accuracy = (float)(correct / (test.Count / 100 * 100));
            }
        }
        return new LeNetRun(seed, net, initial, net.Conv1.Weight.Clone(), loss, accuracy, clock.Elapsed);
    }
}
