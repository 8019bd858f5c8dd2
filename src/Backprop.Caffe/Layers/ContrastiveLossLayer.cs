using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's ContrastiveLoss over pairs (a, b, similar): (1/2N) Σ [similar·d² + (1 − similar)·max(margin − d, 0)²] with
/// d = ‖a − b‖ per row; <c>legacy_version</c> uses max(margin − d², 0) instead. a and b: (N, C, 1, 1); similar: N values.
/// </summary>
public sealed class ContrastiveLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (3, 3);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms[0] != bottoms[1] || bottoms[0].Rank < 2)
            throw Error($"the two feature bottoms must have one shape (N, C, 1, 1), got {bottoms[0]} and {bottoms[1]}.");
        for (int i = 2; i < bottoms[0].Rank; i++)
            if (bottoms[0][i] != 1) throw Error($"features must be (N, C, 1, 1), got {bottoms[0]}.");
        if (bottoms[2].Length != bottoms[0][0])
            throw Error($"the similarity bottom {bottoms[2]} must hold one value per pair ({bottoms[0][0]}).");
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var p = Definition.ContrastiveLossParam ?? new ContrastiveLossParameter();
        int num = bottoms[0].Shape[0];
        var sum = Functional.ContrastiveLossSum(bottoms[0], bottoms[1], bottoms[2].Detach(), p.Margin, p.LegacyVersion);
        return [sum / Math.Max(num, 1) / 2f];
    }
}
