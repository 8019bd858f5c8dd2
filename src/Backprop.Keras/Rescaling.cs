using System.Globalization;
using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Rescaling</c>: y = x·scale + offset, element by element, shape unchanged and no weights
/// (<c>Rescaling(1.0 / 255)</c> maps bytes to [0, 1]; <c>Rescaling(1.0 / 127.5, offset: -1)</c> to [−1, 1]).
/// </summary>
public sealed class Rescaling : Layer
{
    public Rescaling(double scale, double offset = 0.0, KerasShape? inputShape = null, string? name = null) : base(name, inputShape)
    {
        if (!double.IsFinite(scale) || !double.IsFinite(offset))
            throw new ArgumentException($"Rescaling({scale.ToString(CultureInfo.InvariantCulture)}, {offset.ToString(CultureInfo.InvariantCulture)}): scale and offset must be finite numbers.");
        Scale = scale;
        Offset = offset;
    }

    /// <summary>The factor each value is multiplied by.</summary>
    public double Scale { get; }

    /// <summary>The value added after scaling.</summary>
    public double Offset { get; }

    private protected override KerasShape BuildCore(KerasShape input, Generator generator) => input;

    internal override Tensor Forward(Tensor x, bool training)
    {
        var y = Scale == 1.0 ? x : x * (float)Scale;
        return Offset == 0.0 ? y : y + (float)Offset;
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["scale"] = Scale;
        config["offset"] = Offset;
    }
}
