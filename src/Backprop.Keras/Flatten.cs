using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Flatten</c>: (h, w, c) to (h·w·c) in Keras's channels-last order, so a following Dense kernel has
/// the rows Keras gives it and weights move between Keras and Backprop unchanged. Internally the core's
/// (N, C, H, W) batch is permuted to (N, H, W, C) before it is flattened.
/// </summary>
public sealed class Flatten(KerasShape? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    private protected override KerasShape BuildCore(KerasShape input, Generator generator) => new(input.Length);

    internal override Tensor Forward(Tensor x, bool training) =>
        (x.Rank == 4 ? x.Permute(0, 2, 3, 1) : x).Flatten(1);

    private protected override void WriteConfig(JsonObject config) { }
}
