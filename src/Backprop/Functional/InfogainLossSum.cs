namespace Backprop;

public static partial class Functional
{
    /// <summary>Caffe's kLOG_THRESHOLD: probabilities are floored here before their logarithm.</summary>
    public const float LogThreshold = 1e-20f;

    /// <summary>
    /// Caffe's InfogainLoss before normalization: with p the softmax of <paramref name="scores"/> along
    /// <paramref name="axis"/>, Σ over counted positions (label not <paramref name="ignoreLabel"/>) of
    /// −Σ_l H[label, l]·log(max(p_l, 1e-20)), summed in float. Gradient with respect to the scores:
    /// (p_l·Σ_k H[label, k] − H[label, l])·dy at counted positions, 0 elsewhere; H and the labels get none.
    /// scores: (outer, C, inner); labels: outer·inner values; infogain: C·C values, row-major (row = true label).
    /// </summary>
    public static Tensor InfogainLossSum(Tensor scores, int[] labels, Tensor infogain, int axis = 1, int? ignoreLabel = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(infogain);
        if (scores.Rank < 1) throw new ArgumentException($"InfogainLossSum expects scores with a class axis, got {scores.Shape}.");
        var (outer, classes, inner) = SplitAxis(scores.Shape, axis);
        CheckClassLabels("InfogainLossSum", labels, outer * inner, classes, ignoreLabel, scores.Shape);
        if (infogain.Length != classes * classes)
            throw new ArgumentException($"InfogainLossSum: the infogain matrix has {infogain.Length} values; {classes} classes need {classes}x{classes}.");
        var h = infogain.ToArray();
        var prob = new float[scores.Length];
        Kernels.Softmax.Forward(scores.Data, outer, classes, inner, prob, log: false);
        float loss = 0;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[o * inner + j];
                if (label == ignoreLabel) continue;
                for (int l = 0; l < classes; l++)
                    loss -= h[label * classes + l] * MathF.Log(Math.Max(prob[(o * classes + l) * inner + j], LogThreshold));
            }
        return Tensor.Record(Tensor.Scalar(loss), "InfogainLossSumBackward", (dy, _) =>
        {
            var rowSums = new float[classes];
            for (int r = 0; r < classes; r++)
                for (int c = 0; c < classes; c++) rowSums[r] += h[r * classes + c];
            float scale = dy.Item();
            var dx = Tensor.Result(scores.Shape);
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    int label = labels[o * inner + j];
                    if (label == ignoreLabel) continue;
                    for (int l = 0; l < classes; l++)
                    {
                        int at = (o * classes + l) * inner + j;
                        d[at] = (prob[at] * rowSums[label] - h[label * classes + l]) * scale;
                    }
                }
            return [dx, null];
        }, scores, infogain);
    }
}
