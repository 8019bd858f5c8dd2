// Compiles only if Backprop.Keras and Backprop.Nn can be imported together: the two aliases below settle the names both
// define (Sequential, Flatten, Dropout), as src/Backprop.Keras/README.md tells users to write them.
using Backprop.Keras;
using Backprop.Nn;
using Dropout = Backprop.Keras.Dropout;
using Flatten = Backprop.Keras.Flatten;
using Sequential = Backprop.Keras.Sequential;

namespace Backprop.Tests.Keras;

public class UsingBothNamespacesTests
{
    [Fact]
    public void KerasModelAndCoreModulesTogether()
    {
        var model = new Sequential(1,
            new Conv2D(4, 3, inputShape: (8, 8, 1), activation: "relu"),
            new MaxPooling2D(2),
            new Flatten(),
            new Dropout(0.5),
            new Dense(2, activation: "softmax"));
        Conv2d core = ((Conv2D)model.Layers[0]).Conv;                 // Backprop.Nn's module behind the Keras layer
        Module network = model.Network;
        var head = new Backprop.Nn.Sequential(new Backprop.Nn.Flatten(), new Linear(3 * 3 * 4, 2));   // the core's, fully named
        Assert.Equal(4 * 1 * 3 * 3, core.Weight.Length);
        Assert.Equal(model.ParamCount, network.ParameterCount());
        Assert.Equal(new Shape(1, 2), head.Forward(Tensor.Zeros(1, 4, 3, 3)).Shape);
    }
}
