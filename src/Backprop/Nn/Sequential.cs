namespace Backprop.Nn;

/// <summary>
/// Runs its children in order, each on the previous one's output. Children are named 0, 1, 2, ...
/// A <see cref="BatchNorm2d"/> directly followed by a <see cref="Relu"/> runs as one fused op
/// (<see cref="BatchNorm2d.ForwardRelu"/>): the same values, one activation less kept for backward. Likewise a
/// <see cref="Conv2d"/> directly followed by a <see cref="Relu"/> (<see cref="Conv2d.ForwardRelu"/>: the ReLU runs inside
/// the convolution's output pass), and a Conv2d, Relu, Conv2d (Relu) run as <see cref="Conv2d.ForwardReluThen"/>. While
/// autograd records, a BatchNorm2d, Relu, Conv2d (not followed by a Relu) run as <see cref="BatchNorm2d.ForwardReluThen"/>:
/// the activation between the ReLU and the convolution is recomputed in backward rather than kept. Under
/// <see cref="Autograd.Autograd.NoGrad"/>, each result passed from one layer to the next goes back to its
/// <see cref="TensorMemoryPool"/> once the next layer has run (<see cref="Tensor.Release"/>), unless that layer's result,
/// or the chain's input, shares its memory: so a layer must not keep its input to read after it returns.
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = [];

    /// <summary>A chain of <paramref name="modules"/>, named "0", "1", ... by position.</summary>
    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module, named by its position unless <paramref name="name"/> is given.</summary>
    public Sequential Add(Module module, string? name = null)
    {
        RegisterModule(name ?? layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        layers.Add(module);
        return this;
    }

    /// <summary>The number of modules in the chain.</summary>
    public int Count => layers.Count;

    /// <summary>The module at position <paramref name="index"/>.</summary>
    public Module this[int index] => layers[index];

    /// <summary>Runs <paramref name="input"/> through each module in turn.</summary>
    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            var previous = x;
            if (layers[i] is BatchNorm2d recorded && Autograd.GradMode.IsEnabled && i + 2 < layers.Count && layers[i + 1] is Relu
                && layers[i + 2] is Conv2d following && !(i + 3 < layers.Count && layers[i + 3] is Relu))
            {
                x = recorded.ForwardReluThen(following, x);   // the activation between them not kept for backward
                i += 2;
            }
            else if (layers[i] is BatchNorm2d norm && i + 1 < layers.Count && layers[i + 1] is Relu)
            {
                x = norm.ForwardRelu(x);
                i++;   // the ReLU ran inside the fused op
            }
            else if (layers[i] is Conv2d first && i + 2 < layers.Count && layers[i + 1] is Relu && layers[i + 2] is Conv2d second)
            {
                bool relu = i + 3 < layers.Count && layers[i + 3] is Relu;
                x = first.ForwardReluThen(second, x, nextRelu: relu);
                i += relu ? 3 : 2;
            }
            else if (layers[i] is Conv2d conv && i + 1 < layers.Count && layers[i + 1] is Relu)
            {
                x = conv.ForwardRelu(x);
                i++;
            }
            else x = layers[i].Forward(x);
            previous.ReleaseUnlessShared(input, x);
        }
        return x;
    }
}
