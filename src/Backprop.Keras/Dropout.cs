using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Dropout</c>: in training (Fit) each value is zeroed with probability <see cref="Rate"/> and the rest
/// scaled by 1/(1 − rate); in Evaluate and Predict it passes values through. Draws from the model's generator.
/// </summary>
public sealed class Dropout : Layer
{
    private Generator? generator;

    public Dropout(double rate, KerasShape? inputShape = null, string? name = null) : base(name, inputShape)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentException($"Dropout({rate}): the rate must be in [0, 1).");
        Rate = rate;
    }

    public double Rate { get; }

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        this.generator = generator;
        return input;
    }

    internal override Tensor Forward(Tensor x, bool training) => Functional.Dropout(x, (float)Rate, training, generator);

    private protected override void WriteConfig(JsonObject config) => config["rate"] = Rate;
}
