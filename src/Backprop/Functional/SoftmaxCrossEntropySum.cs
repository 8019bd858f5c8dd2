namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's SoftmaxWithLoss before normalization: Σ −log(max(p[label], <paramref name="minProbability"/>)) over the
    /// positions whose label is not <paramref name="ignoreLabel"/>, p the softmax of <paramref name="scores"/> along
    /// <paramref name="axis"/>. Caffe floors p at FLT_MIN, so one position adds at most about 87.34. The sum is taken in
    /// float in position order, as Caffe does. The gradient is (p − one-hot)·dy at counted positions and 0 elsewhere:
    /// the floor changes the value only, as in Caffe's backward.
    /// scores: (outer, C, inner); labels: outer·inner values in [0, C).
    /// </summary>
    public static Tensor SoftmaxCrossEntropySum(Tensor scores, int[] labels, int axis = 1, int? ignoreLabel = null, float minProbability = float.Epsilon)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Rank < 1) throw new ArgumentException($"SoftmaxCrossEntropySum expects scores with a class axis, got {scores.Shape}.");
        var (outer, classes, inner) = SplitAxis(scores.Shape, axis);
        CheckClassLabels("SoftmaxCrossEntropySum", labels, outer * inner, classes, ignoreLabel, scores.Shape);
        var prob = new float[scores.Length];
        Kernels.Softmax.Forward(scores.Data, outer, classes, inner, prob, log: false);
        float loss = 0;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[o * inner + j];
                if (label == ignoreLabel) continue;
                loss -= MathF.Log(Math.Max(prob[(o * classes + label) * inner + j], minProbability));
            }
        return Tensor.Record(Tensor.Scalar(loss), "SoftmaxCrossEntropySumBackward", (dy, _) =>
        {
            float scale = dy.Item();
            var dx = Tensor.Result(scores.Shape);
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    int label = labels[o * inner + j];
                    if (label == ignoreLabel) continue;
                    for (int k = 0; k < classes; k++)
                    {
                        int at = (o * classes + k) * inner + j;
                        d[at] = (prob[at] - (k == label ? 1f : 0f)) * scale;
                    }
                }
            return [dx];
        }, scores);
    }

    /// <summary>Checks there is one label per position and that each counted label names a class.</summary>
    internal static void CheckClassLabels(string op, int[] labels, int positions, int classes, int? ignoreLabel, Shape scores)
    {
        if (labels.Length != positions)
            throw new ArgumentException($"{op}: {labels.Length} labels for scores of shape {scores}, which need {positions}.");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] != ignoreLabel && (labels[i] < 0 || labels[i] >= classes))
                throw new ArgumentException($"{op}: label {labels[i]} at position {i} is outside [0, {classes}).");
    }
}
