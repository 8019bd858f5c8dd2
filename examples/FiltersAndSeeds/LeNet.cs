using Backprop;
using Backprop.Nn;

namespace FiltersAndSeeds;

/// <summary>
/// Caffe's LeNet (examples/mnist/lenet_train_test.prototxt): conv 20@5x5 → max pool 2 → conv 50@5x5 → max pool 2
/// → fully connected 500 → ReLU → fully connected 10. Weights drawn with Caffe's xavier filler
/// (U[−a, a], a = √(3 / fan_in)), biases zero, as the prototxt asks.
/// </summary>
public sealed class LeNet : Module
{
    public LeNet(Generator generator)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(1, 20, 5, generator: generator));
        Conv2 = RegisterModule("conv2", new Conv2d(20, 50, 5, generator: generator));
        Ip1 = RegisterModule("ip1", new Linear(50 * 4 * 4, 500, generator: generator));
        Ip2 = RegisterModule("ip2", new Linear(500, 10, generator: generator));
        foreach (var (name, p) in NamedParameters())
        {
            if (name.EndsWith(".weight", StringComparison.Ordinal)) Init.Xavier(p, generator);
            else
            {
                Init.Constant(p, 0f);
                p.LearningRateMultiplier = 2f;   // Caffe's lenet: lr_mult 2 on biases
            }
        }
    }

    public Conv2d Conv1 { get; }
    public Conv2d Conv2 { get; }
    public Linear Ip1 { get; }
    public Linear Ip2 { get; }

    public override Tensor Forward(Tensor input)
    {
        var x = Functional.MaxPool2d(Conv1.Forward(input), 2);   // (N, 20, 12, 12)
        x = Functional.MaxPool2d(Conv2.Forward(x), 2);            // (N, 50, 4, 4)
        x = Functional.Relu(Ip1.Forward(x.Flatten(1)));           // (N, 500)
        return Ip2.Forward(x);                                    // (N, 10)
    }
}
