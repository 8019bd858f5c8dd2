using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>Keras's <c>GlobalAveragePooling2D</c>: the mean of each channel's plane, (h, w, c) to (c).</summary>
public sealed class GlobalAveragePooling2D(KerasShape? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        return new KerasShape(input[2]);
    }

    internal override Tensor Forward(Tensor x, bool training) => Functional.GlobalAvgPool2d(x).Flatten(1);

    private protected override void WriteConfig(JsonObject config) { }
}
