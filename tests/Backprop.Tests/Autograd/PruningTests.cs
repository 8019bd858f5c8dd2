using Backprop.Nn;
using Xunit.Abstractions;
using AG = Backprop.Autograd.Autograd;

namespace Backprop.Tests.AutogradEngine;

/// <summary>Freezing parameters shrinks the backward graph, and trainable parameters get the same gradients.</summary>
public class PruningTests(ITestOutputHelper output)
{
    private sealed class FourLayerCnn : Module
    {
        public readonly Conv2d Conv1, Conv2;
        public readonly Linear Fc1, Fc2;

        public FourLayerCnn(ulong seed)
        {
            var g = new Generator(seed);
            Conv1 = RegisterModule("conv1", new Conv2d(1, 4, 3, generator: g));
            Conv2 = RegisterModule("conv2", new Conv2d(4, 6, 3, generator: g));
            Fc1 = RegisterModule("fc1", new Linear(6 * 2 * 2, 10, generator: g));
            Fc2 = RegisterModule("fc2", new Linear(10, 3, generator: g));
        }

        public override Tensor Forward(Tensor x)
        {
            x = Functional.Relu(Conv1.Forward(x));                 // (N, 4, 8, 8)
            x = Functional.MaxPool2d(Functional.Relu(Conv2.Forward(x)), 3);  // (N, 6, 2, 2)
            x = Functional.Relu(Fc1.Forward(x.Flatten(1)));
            return Fc2.Forward(x);
        }
    }

    private static (Tensor Loss, int Nodes) Step(FourLayerCnn net)
    {
        var x = Tensor.Randn(new Generator(42), 3, 1, 10, 10);
        var loss = Functional.CrossEntropy(net.Forward(x), [0, 2, 1]);
        int nodes = AG.Backward(loss);
        return (loss, nodes);
    }

    [Fact]
    public void FreezingTheFirstLayersSkipsTheirGradients()
    {
        var full = new FourLayerCnn(7);
        var (_, allNodes) = Step(full);

        var frozen = new FourLayerCnn(7);
        frozen.Conv1.RequiresGrad(false);
        frozen.Conv2.RequiresGrad(false);
        var (loss, frozenNodes) = Step(frozen);
        output.WriteLine($"backward nodes: all trainable {allNodes}, first two frozen {frozenNodes}");
        output.WriteLine(frozen.ToDot(loss));

        Assert.True(frozenNodes < allNodes);
        // All trainable: 10 ops (conv, relu, conv, relu, pool, view, addmm, relu, addmm, loss) + 8 AccumulateGrad.
        // Frozen: nothing before fc1 is recorded, so 4 ops + 4 AccumulateGrad remain.
        Assert.Equal(18, allNodes);
        Assert.Equal(8, frozenNodes);
        Assert.All(new[] { frozen.Conv1.Weight, frozen.Conv1.Bias!, frozen.Conv2.Weight, frozen.Conv2.Bias! }, p => Assert.Null(p.Grad));
        foreach (var (a, b) in new[] { (full.Fc1.Weight, frozen.Fc1.Weight), (full.Fc2.Weight, frozen.Fc2.Weight), (full.Fc2.Bias!, frozen.Fc2.Bias!) })
            Assert.Equal(a.Grad!.ToArray(), b.Grad!.ToArray());
        Assert.DoesNotContain("ConvolutionBackward", frozen.ToDot(loss));
    }

    [Fact]
    public void TrainingOnlyTheFirstLayersStillReachesThem()
    {
        var full = new FourLayerCnn(11);
        var (_, allNodes) = Step(full);

        var firstOnly = new FourLayerCnn(11);
        firstOnly.Fc1.RequiresGrad(false);
        firstOnly.Fc2.RequiresGrad(false);
        var (_, nodes) = Step(firstOnly);
        output.WriteLine($"backward nodes: all trainable {allNodes}, only the first two trainable {nodes}");

        // The graph still runs through the frozen layers, but their four AccumulateGrads are gone.
        Assert.Equal(allNodes - 4, nodes);
        Assert.Null(firstOnly.Fc1.Weight.Grad);
        Assert.Null(firstOnly.Fc2.Bias!.Grad);
        foreach (var (a, b) in new[] { (full.Conv1.Weight, firstOnly.Conv1.Weight), (full.Conv1.Bias!, firstOnly.Conv1.Bias!), (full.Conv2.Weight, firstOnly.Conv2.Weight) })
            Assert.Equal(a.Grad!.ToArray(), b.Grad!.ToArray());
    }
}
