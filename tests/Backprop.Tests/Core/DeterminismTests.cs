using Backprop.Kernels;
using Backprop.Optim;
using Filters;

namespace Backprop.Tests.Core;

[Collection("KernelSettings")]
public class DeterminismTests
{
    private static float[] TrainFiftySteps(int threads)
    {
        int saved = KernelThreads.Count;
        KernelThreads.Count = threads;
        try
        {
            var generator = new Generator(123);
            var net = new FilterNet(generator);
            var optimizer = new Sgd(net.Parameters(), learningRate: 0.02f, momentum: 0.9f, weightDecay: 1e-3f);
            for (int step = 0; step < 50; step++)
            {
                var (images, labels) = BarsAndEdges.Generate(64, generator);
                optimizer.ZeroGrad();
                Functional.CrossEntropy(net.Forward(images), labels).Backward();
                optimizer.Step();
            }
            return net.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        finally
        {
            KernelThreads.Count = saved;
        }
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeightsOnOneAndTwoThreads()
    {
        var oneA = TrainFiftySteps(1);
        var oneB = TrainFiftySteps(1);
        var two = TrainFiftySteps(2);
        Assert.Equal(oneA, oneB);
        Assert.Equal(oneA, two);
    }
}
