using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>Keras's <c>Input</c>/<c>InputLayer</c>: declares the sample shape, as an alternative to the first layer's inputShape. Not listed by Summary.</summary>
public sealed class InputLayer(KerasShape shape, string? name = null) : Layer(name, shape ?? throw new ArgumentNullException(nameof(shape)))
{
    private protected override KerasShape BuildCore(KerasShape input, Generator generator) => input;

    internal override Tensor Forward(Tensor x, bool training) => x;

    private protected override void WriteConfig(JsonObject config) { }
}
