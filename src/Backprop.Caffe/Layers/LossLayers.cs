using Backprop.Caffe.Proto;
using static Backprop.Caffe.Proto.LossParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Softmax along <c>axis</c> (default 1).</summary>
public sealed class SoftmaxLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        axis = bottoms[0].NormalizeAxis(Definition.SoftmaxParam?.Axis ?? 1);
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Softmax(bottoms[0], axis)];
}

/// <summary>
/// Caffe's SoftmaxWithLoss: softmax over <c>softmax_param.axis</c> (default 1) and Σ −log(max(p[label], FLT_MIN)),
/// divided by the normalizer of <c>loss_param.normalization</c> (VALID by default: the labels not equal to
/// <c>ignore_label</c>; FULL: all; BATCH_SIZE: the outer count; NONE: 1). The FLT_MIN floor caps one position's loss at
/// about 87.34, as in Caffe. A second top gets the probabilities.
/// </summary>
public sealed class SoftmaxWithLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int? ignoreLabel;
    private NormalizationMode mode;
    private int axis;

    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var (scores, labels) = (bottoms[0], bottoms[1]);
        if (scores.Rank < 1) throw Error($"scores must have a class axis, got {scores}.");
        axis = scores.NormalizeAxis(Definition.SoftmaxParam?.Axis ?? 1);
        if (scores[axis] == 0 || labels.Length * scores[axis] != scores.Length)
            throw Error($"{labels.Length} labels for scores {scores}: need one label per position ({(scores[axis] == 0 ? 0 : scores.Length / scores[axis])}).");
        ignoreLabel = LossNormalization.IgnoreLabel(Definition.LossParam);
        mode = LossNormalization.Mode(Definition.LossParam, NormalizationMode.Valid);
        return Definition.Top.Count == 2 ? [new Shape(), scores] : [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var scores = bottoms[0];
        int[] labels = Labels.Read(bottoms[1], Where);
        int outer = 1;
        for (int i = 0; i < axis; i++) outer *= scores.Shape[i];
        float normalizer = LossNormalization.Normalizer(mode, outer, labels.Length / Math.Max(outer, 1), LossNormalization.Valid(labels, ignoreLabel));
        // FLT_MIN: the smallest normal float, as Caffe floors the probability.
        var loss = Functional.SoftmaxCrossEntropySum(scores, labels, axis, ignoreLabel, 1.17549435e-38f) / normalizer;
        return Definition.Top.Count == 2 ? [loss, Functional.Softmax(scores.Detach(), axis)] : [loss];
    }
}

/// <summary>
/// Caffe's Accuracy: the fraction of labels among the top_k scores along <c>axis</c> (ties count as correct), skipping
/// ignore_label; 0 when no label counts. An optional second top holds each class's accuracy (0 for classes absent
/// from the labels).
/// </summary>
public sealed class AccuracyLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis;

    public override (int Min, int Max) Bottoms => (2, 2);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.AccuracyParam ?? new AccuracyParameter();
        if (bottoms[0].Rank < 1) throw Error($"scores must have a class axis, got {bottoms[0]}.");
        axis = bottoms[0].NormalizeAxis(p.Axis);
        int classes = bottoms[0][axis];
        if (p.TopK < 1 || p.TopK > classes) throw Error($"top_k {p.TopK} must be between 1 and the {classes} classes.");
        if (bottoms[1].Length * classes != bottoms[0].Length)
            throw Error($"{bottoms[1].Length} labels for scores {bottoms[0]}: need one label per position along axis {axis}.");
        return Definition.Top.Count == 2 ? [new Shape(), new Shape(classes)] : [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var p = Definition.AccuracyParam ?? new AccuracyParameter();
        int? ignore = p.HasIgnoreLabel ? p.IgnoreLabel : null;
        var scores = bottoms[0].AsSpan();
        int[] labels = Labels.Read(bottoms[1], Where);
        int classes = bottoms[0].Shape[axis], inner = 1;
        for (int i = axis + 1; i < bottoms[0].Rank; i++) inner *= bottoms[0].Shape[i];
        int outer = labels.Length / inner, count = 0;
        float correct = 0;
        var perClassCorrect = new float[classes];
        var perClassCount = new float[classes];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[o * inner + j];
                if (label == ignore) continue;
                if (label < 0 || label >= classes) throw Error($"label {label} at position {o * inner + j} is outside [0, {classes}).");
                perClassCount[label]++;
                int at = o * classes * inner + j;
                float truth = scores[at + label * inner];
                int better = -1;   // the true class counts itself
                for (int k = 0; k < classes && better < p.TopK; k++) better += scores[at + k * inner] >= truth ? 1 : 0;
                if (better < p.TopK) { correct++; perClassCorrect[label]++; }
                count++;
            }
        var accuracy = Tensor.Scalar(count == 0 ? 0 : correct / count);
        if (Definition.Top.Count < 2) return [accuracy];
        for (int c = 0; c < classes; c++) perClassCorrect[c] = perClassCount[c] == 0 ? 0 : perClassCorrect[c] / perClassCount[c];
        return [accuracy, Tensor.FromArray(perClassCorrect, classes)];
    }
}

/// <summary>Caffe's EuclideanLoss: Σ (a − b)² / (2N).</summary>
public sealed class EuclideanLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms[0].Length != bottoms[1].Length || bottoms[0][0] != bottoms[1][0])
            throw Error($"bottoms {bottoms[0]} and {bottoms[1]} must have the same size.");
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.EuclideanLoss(bottoms[0], bottoms[1].Reshape(bottoms[0].Shape.ToArray()))];
}

/// <summary>Caffe stores labels as floats; these are their integer values.</summary>
internal static class Labels
{
    public static int[] Read(Tensor labels, string where)
    {
        var v = labels.AsSpan();
        var result = new int[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            float f = v[i];
            if (f != MathF.Round(f) || !float.IsFinite(f))
                throw new CaffeNetException($"{where}: label {f} at position {i} is not a whole number.");
            result[i] = (int)f;
        }
        return result;
    }
}
