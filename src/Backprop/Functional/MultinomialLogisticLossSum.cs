namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's MultinomialLogisticLoss before its 1/N: Σ over rows of −log(max(p[row, label], 1e-20)) for inputs that are
    /// already probabilities, summed in float. Gradient: −dy / max(p[row, label], 1e-20) at each label, 0 elsewhere
    /// (the floor bounds the gradient too, as in Caffe).
    /// probabilities: (N, ...) with everything after the first axis the classes; labels: N values.
    /// </summary>
    public static Tensor MultinomialLogisticLossSum(Tensor probabilities, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        if (probabilities.Rank < 1) throw new ArgumentException($"MultinomialLogisticLossSum expects (N, C, ...), got {probabilities.Shape}.");
        int rows = probabilities.Shape[0], dim = rows == 0 ? 0 : probabilities.Length / rows;
        CheckClassLabels("MultinomialLogisticLossSum", labels, rows, dim, null, probabilities.Shape);
        var p = probabilities.Data;
        var picked = new float[rows];
        float loss = 0;
        for (int i = 0; i < rows; i++)
        {
            picked[i] = Math.Max(p[i * dim + labels[i]], LogThreshold);
            loss -= MathF.Log(picked[i]);
        }
        return Tensor.Record(Tensor.Scalar(loss), "MultinomialLogisticLossSumBackward", (dy, _) =>
        {
            var dx = Tensor.Result(probabilities.Shape);
            var d = dx.AsSpan();
            float scale = -dy.Item();
            for (int i = 0; i < rows; i++) d[i * dim + labels[i]] = scale / picked[i];
            return [dx];
        }, probabilities);
    }
}
