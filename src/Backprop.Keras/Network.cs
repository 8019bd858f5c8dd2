using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// The core module behind a <see cref="Sequential"/>: each layer's core module registered under the layer's name,
/// so parameters read <c>conv2d.weight</c>, <c>dense_1.bias</c> (the core's layouts), and a forward pass over a
/// channels-first batch (N, C, H, W) or (N, features) that runs every Keras layer, activations included.
/// </summary>
internal sealed class Network(Sequential model) : Module
{
    public void Register(Layer layer)
    {
        if (layer.Module is not null) RegisterModule(layer.Name, layer.Module);
    }

    public override Tensor Forward(Tensor input) => model.ForwardChannelsFirst(input, IsTraining, withoutFinalActivation: false);
}
