using Backprop;
using Backprop.Nn;

namespace Freezing;

/// <summary>
/// A small CNN for 32x32 RGB images: conv 3→16 → ReLU → conv 16→32 → ReLU → max pool 2 (the early layers),
/// conv 32→64 → ReLU → conv 64→64 → ReLU → max pool 2 → fully connected 4096→10 (the late layers). 3x3 kernels, padding 1.
/// </summary>
public sealed class SmallCnn : Module
{
    public SmallCnn(Generator generator)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(3, 16, 3, padding: 1, generator: generator));
        Conv2 = RegisterModule("conv2", new Conv2d(16, 32, 3, padding: 1, generator: generator));
        Conv3 = RegisterModule("conv3", new Conv2d(32, 64, 3, padding: 1, generator: generator));
        Conv4 = RegisterModule("conv4", new Conv2d(64, 64, 3, padding: 1, generator: generator));
        Fc = RegisterModule("fc", new Linear(64 * 8 * 8, 10, generator: generator));
    }

    public Conv2d Conv1 { get; }
    public Conv2d Conv2 { get; }
    public Conv2d Conv3 { get; }
    public Conv2d Conv4 { get; }
    public Linear Fc { get; }

    /// <summary>conv1 and conv2: the layers a fine-tuning run would usually freeze.</summary>
    public IReadOnlyList<Module> EarlyLayers => [Conv1, Conv2];

    /// <summary>conv3, conv4 and fc.</summary>
    public IReadOnlyList<Module> LateLayers => [Conv3, Conv4, Fc];

    public override Tensor Forward(Tensor input)
    {
        var x = Functional.Relu(Conv1.Forward(input));                          // (N, 16, 32, 32)
        x = Functional.MaxPool2d(Functional.Relu(Conv2.Forward(x)), 2);         // (N, 32, 16, 16)
        x = Functional.Relu(Conv3.Forward(x));                                  // (N, 64, 16, 16)
        x = Functional.MaxPool2d(Functional.Relu(Conv4.Forward(x)), 2);         // (N, 64, 8, 8)
        return Fc.Forward(x.Flatten(1));                                        // (N, 10)
    }
}
