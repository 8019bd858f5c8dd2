using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's HingeLoss (one-versus-all): (1/N) Σ max(0, 1 + s·x), s = −1 at the label's class and +1 elsewhere, or the
/// sum of squares with <c>hinge_loss_param { norm: L2 }</c>. Scores (N, C, ...); labels: N values.
/// </summary>
public sealed class HingeLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms[0].Rank < 1 || bottoms[1].Rank < 1 || bottoms[0][0] != bottoms[1][0])
            throw Error($"scores {bottoms[0]} and labels {bottoms[1]} must have the same first dimension.");
        if (bottoms[1].Length != bottoms[0][0]) throw Error($"labels {bottoms[1]} must hold one value per row of the scores.");
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var norm = Definition.HingeLossParam?.Norm ?? HingeLossParameter.Types.Norm.L1;
        int num = bottoms[0].Shape[0];
        var sum = Functional.HingeLossSum(bottoms[0], Labels.Read(bottoms[1], Where), squared: norm == HingeLossParameter.Types.Norm.L2);
        return [sum / Math.Max(num, 1)];
    }
}
