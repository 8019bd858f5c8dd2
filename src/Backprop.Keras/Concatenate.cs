using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Concatenate(axis=-1)</c>: joins tensors along <see cref="Axis"/> in Keras's order (batch is axis 0;
/// the default -1 is the channels of (h, w, c) images or the features of vectors); all other dimensions must match.
/// The Inception block's join: <c>new Concatenate().Apply(branch1, branch2, branch3)</c>.
/// </summary>
public sealed class Concatenate(int axis = -1, string? name = null) : MergeLayer(name)
{
    private int coreAxis;

    /// <summary>The axis as given (Keras's order, batch included).</summary>
    public int Axis { get; } = axis;

    private protected override KerasShape MergedShape(IReadOnlyList<KerasShape> shapes, string described)
    {
        int rank = shapes[0].Rank;
        if (shapes.Any(s => s.Rank != rank)) throw MergeError(described, "needs inputs of the same rank");
        int a = Axis < 0 ? Axis + rank + 1 : Axis;
        if (a < 1 || a > rank) throw MergeError(described, $"joins along axis {Axis}, which is the batch or outside (None, ...) of rank {rank + 1}");
        var dims = shapes[0].ToArray();
        for (int i = 1; i < shapes.Count; i++)
            for (int d = 0; d < rank; d++)
                if (d != a - 1 && shapes[i][d] != dims[d])
                    throw MergeError(described, $"joins along axis {Axis} and needs every other dimension equal");
        dims[a - 1] = shapes.Sum(s => s[a - 1]);
        // Inside, images are (N, C, H, W): Keras's h, w, c axes 1, 2, 3 are the core's 2, 3, 1.
        coreAxis = rank == 3 ? (a == 3 ? 1 : a + 1) : a;
        return new KerasShape(dims);
    }

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs) => Tensor.Concat(inputs, coreAxis);

    private protected override void WriteConfig(JsonObject config) => config["axis"] = Axis;
}
