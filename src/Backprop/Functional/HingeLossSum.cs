namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's HingeLoss before its 1/N: with s = −1 at the label's class and +1 elsewhere, Σ over all scores of
    /// max(0, 1 + s·x) (L1), or of its square when <paramref name="squared"/> (L2), summed in float.
    /// Gradient: s·[1 + s·x &gt; 0]·dy (L1), 2·s·max(0, 1 + s·x)·dy (L2); labels get none.
    /// scores: (N, C, ...) with everything after the first axis counted as classes; labels: N values in [0, C·…).
    /// </summary>
    public static Tensor HingeLossSum(Tensor scores, int[] labels, bool squared = false)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Rank < 1) throw new ArgumentException($"HingeLossSum expects scores (N, C, ...), got {scores.Shape}.");
        int rows = scores.Shape[0], dim = rows == 0 ? 0 : scores.Length / rows;
        CheckClassLabels("HingeLossSum", labels, rows, dim, null, scores.Shape);
        var margin = scores.ToArray();
        for (int i = 0; i < rows; i++) margin[i * dim + labels[i]] *= -1;
        float loss = 0;
        for (int i = 0; i < margin.Length; i++)
        {
            margin[i] = Math.Max(0f, 1 + margin[i]);
            loss += squared ? margin[i] * margin[i] : margin[i];
        }
        return Tensor.Record(Tensor.Scalar(loss), "HingeLossSumBackward", (dy, _) =>
        {
            var dx = Tensor.Result(scores.Shape);
            var d = dx.AsSpan();
            float scale = dy.Item();
            for (int i = 0; i < d.Length; i++) d[i] = squared ? 2 * margin[i] * scale : (margin[i] > 0 ? scale : 0);
            for (int i = 0; i < rows; i++) d[i * dim + labels[i]] *= -1;
            return [dx];
        }, scores);
    }
}
