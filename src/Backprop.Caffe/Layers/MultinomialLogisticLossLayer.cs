using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's MultinomialLogisticLoss over probabilities (a Softmax's output): (1/N) Σ −log(max(p[label], 1e-20)).
/// Probabilities (N, C, 1, 1) or (N, C); labels: N values.
/// </summary>
public sealed class MultinomialLogisticLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms[0].Rank < 1 || bottoms[1].Rank < 1 || bottoms[0][0] != bottoms[1][0])
            throw Error($"probabilities {bottoms[0]} and labels {bottoms[1]} must have the same first dimension.");
        if (bottoms[1].Length != bottoms[0][0]) throw Error($"labels {bottoms[1]} must hold one value per row.");
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        int num = bottoms[0].Shape[0];
        return [Functional.MultinomialLogisticLossSum(bottoms[0], Labels.Read(bottoms[1], Where)) / Math.Max(num, 1)];
    }
}
