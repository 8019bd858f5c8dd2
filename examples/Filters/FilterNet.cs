using Backprop;
using Backprop.Nn;

namespace Filters;

/// <summary>A small CNN: conv 5x5 (8 filters) → ReLU → max pool 2 → fully connected to 4 classes.</summary>
public sealed class FilterNet : Module
{
    public FilterNet(Generator generator)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(1, 8, 5, generator: generator));
        Fc = RegisterModule("fc", new Linear(8 * 6 * 6, BarsAndEdges.ClassNames.Length, generator: generator));
    }

    public Conv2d Conv1 { get; }
    public Linear Fc { get; }

    public override Tensor Forward(Tensor input)
    {
        var x = Functional.MaxPool2d(Functional.Relu(Conv1.Forward(input)), 2);   // (N, 8, 6, 6)
        return Fc.Forward(x.Flatten(1));
    }
}
