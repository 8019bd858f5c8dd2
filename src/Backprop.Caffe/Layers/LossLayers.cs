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
/// Caffe's SoftmaxWithLoss: softmax over axis 1 and the negative log-likelihood of the labels, summed and
/// divided by the normalizer of <c>loss_param.normalization</c> (VALID by default: the labels not equal
/// to <c>ignore_label</c>; FULL: all; BATCH_SIZE: N; NONE: 1). A second top gets the probabilities.
/// </summary>
public sealed class SoftmaxWithLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int? ignoreLabel;
    private NormalizationMode mode;

    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 2);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if ((Definition.SoftmaxParam?.Axis ?? 1) != 1) throw Error("only softmax over axis 1 is supported.");
        var (scores, labels) = (bottoms[0], bottoms[1]);
        if (scores.Rank < 2) throw Error($"scores must be (N, C, ...), got {scores}.");
        if (labels.Length * scores[1] != scores.Length)
            throw Error($"{labels.Length} labels for scores {scores}: need one label per position ({scores.Length / scores[1]}).");
        var lp = Definition.LossParam;
        ignoreLabel = lp is not null && lp.HasIgnoreLabel ? lp.IgnoreLabel : null;
        mode = lp is null ? NormalizationMode.Valid
            : !lp.HasNormalization && lp.HasNormalize ? (lp.Normalize ? NormalizationMode.Valid : NormalizationMode.BatchSize)
            : lp.Normalization;
        return Definition.Top.Count == 2 ? [new Shape(), scores] : [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var scores = bottoms[0];
        int[] labels = Labels.Read(bottoms[1], Where);
        int ignore = ignoreLabel ?? int.MinValue;
        int valid = labels.Count(l => l != ignore);
        int outer = scores.Shape[0], positions = labels.Length;
        double normalizer = mode switch
        {
            NormalizationMode.Full => positions,
            NormalizationMode.Valid => ignoreLabel is null ? positions : valid,
            NormalizationMode.BatchSize => outer,
            _ => 1,
        };
        normalizer = Math.Max(normalizer, 1);
        // CrossEntropy averages over the valid labels; rescale that mean to Caffe's normalizer.
        var loss = valid == 0 ? Tensor.Scalar(0) : Functional.CrossEntropy(scores, labels, ignore) * (float)(valid / normalizer);
        return Definition.Top.Count == 2 ? [loss, Functional.Softmax(scores.Detach(), 1)] : [loss];
    }
}

/// <summary>Caffe's Accuracy: the fraction of labels among the top_k scores (ties count as correct), skipping ignore_label.</summary>
public sealed class AccuracyLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.AccuracyParam ?? new AccuracyParameter();
        if (p.Axis != 1) throw Error("only accuracy over axis 1 is supported.");
        if (p.TopK < 1 || p.TopK > bottoms[0][1]) throw Error($"top_k {p.TopK} must be between 1 and the {bottoms[0][1]} classes.");
        if (bottoms[1].Length * bottoms[0][1] != bottoms[0].Length)
            throw Error($"{bottoms[1].Length} labels for scores {bottoms[0]}: need one label per position.");
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var p = Definition.AccuracyParam ?? new AccuracyParameter();
        int ignore = p.HasIgnoreLabel ? p.IgnoreLabel : int.MinValue;
        return [Tensor.Scalar(Functional.Accuracy(bottoms[0].Detach(), Labels.Read(bottoms[1], Where), (int)p.TopK, ignore))];
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
