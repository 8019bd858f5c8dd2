using Backprop.Caffe.Proto;
using static Backprop.Caffe.Proto.LossParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's SigmoidCrossEntropyLoss: the cross-entropy of σ(scores) against targets in [0, 1] (same count), in Caffe's
/// overflow-free form, skipping targets equal to ignore_label, divided by the normalizer of loss_param.normalization
/// (BATCH_SIZE by default here, unlike SoftmaxWithLoss). The targets get no gradient.
/// </summary>
public sealed class SigmoidCrossEntropyLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int? ignoreLabel;
    private NormalizationMode mode;

    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms[0].Rank < 1 || bottoms[1].Rank < 1 || bottoms[0][0] != bottoms[1][0])
            throw Error($"scores {bottoms[0]} and targets {bottoms[1]} must have the same first dimension.");
        if (bottoms[0].Length != bottoms[1].Length)
            throw Error($"scores {bottoms[0]} and targets {bottoms[1]} must have the same count.");
        ignoreLabel = LossNormalization.IgnoreLabel(Definition.LossParam);
        mode = LossNormalization.Mode(Definition.LossParam, NormalizationMode.BatchSize);
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var (scores, targets) = (bottoms[0], bottoms[1]);
        int outer = scores.Shape[0], inner = outer == 0 ? 0 : scores.Length / outer;
        int? valid = null;
        if (ignoreLabel is int ignore)
        {
            valid = 0;
            foreach (float t in targets.AsSpan()) if ((int)t != ignore) valid++;
        }
        else if (mode == NormalizationMode.Valid) valid = scores.Length;
        float normalizer = LossNormalization.Normalizer(mode, outer, inner, valid);
        return [Functional.SigmoidCrossEntropySum(scores, targets.Detach(), ignoreLabel) / normalizer];
    }
}
