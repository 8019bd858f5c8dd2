using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>Keras's <c>Activation</c> layer: applies a named activation (see <see cref="Activations"/>).</summary>
public sealed class Activation : Layer
{
    private readonly string activationName;

    public Activation(string activation, KerasShape? inputShape = null, string? name = null) : base(name, inputShape) =>
        activationName = Activations.Validate(activation ?? throw new ArgumentNullException(nameof(activation)), $"Activation(\"{activation}\")");

    /// <summary>The activation's name.</summary>
    public override string ActivationName => activationName;

    private protected override KerasShape BuildCore(KerasShape input, Generator generator) => input;

    internal override Tensor Forward(Tensor x, bool training) => x;

    private protected override void WriteConfig(JsonObject config) => config["activation"] = ActivationName;
}
