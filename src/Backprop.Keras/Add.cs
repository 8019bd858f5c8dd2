using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Add()</c>: the element-wise sum of tensors of one shape, as in a residual block's
/// <c>new Add().Apply(shortcut, x)</c>.
/// </summary>
public sealed class Add(string? name = null) : MergeLayer(name)
{
    private protected override KerasShape MergedShape(IReadOnlyList<KerasShape> shapes, string described)
    {
        if (shapes.Any(s => !s.Equals(shapes[0]))) throw MergeError(described, "adds tensors of one shape");
        return shapes[0];
    }

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        var sum = inputs[0] + inputs[1];
        for (int i = 2; i < inputs.Count; i++) sum += inputs[i];
        return sum;
    }

    private protected override void WriteConfig(JsonObject config) { }
}
