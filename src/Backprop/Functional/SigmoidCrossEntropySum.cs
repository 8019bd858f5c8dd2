namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's SigmoidCrossEntropyLoss before normalization: Σ −[t·log σ(x) + (1 − t)·log(1 − σ(x))] over the elements
    /// whose target (as a whole number) is not <paramref name="ignoreLabel"/>, in Caffe's overflow-free form
    /// −(x·(t − [x ≥ 0]) − log(1 + e^(x − 2x·[x ≥ 0]))), summed in float in element order. Gradient with respect to the
    /// logits: (σ(x) − t)·dy, 0 at ignored elements; targets get no gradient.
    /// logits and targets: the same number of elements.
    /// </summary>
    public static Tensor SigmoidCrossEntropySum(Tensor logits, Tensor targets, int? ignoreLabel = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Length != targets.Length)
            throw new ArgumentException($"SigmoidCrossEntropySum: logits {logits.Shape} and targets {targets.Shape} must have as many elements.");
        var x = logits.Data;
        var t = targets.ToArray();
        float loss = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (ignoreLabel is int ignore && (int)t[i] == ignore) continue;
            float positive = x[i] >= 0 ? 1f : 0f;
            loss -= x[i] * (t[i] - positive) - MathF.Log(1 + MathF.Exp(x[i] - 2 * x[i] * positive));
        }
        return Tensor.Record(Tensor.Scalar(loss), "SigmoidCrossEntropySumBackward", (dy, _) =>
        {
            float scale = dy.Item();
            var dx = Tensor.Result(logits.Shape);
            var d = dx.AsSpan();
            var xs = logits.Data;
            for (int i = 0; i < d.Length; i++)
            {
                if (ignoreLabel is int ignore && (int)t[i] == ignore) continue;
                d[i] = (0.5f * MathF.Tanh(0.5f * xs[i]) + 0.5f - t[i]) * scale;   // Caffe's sigmoid
            }
            return [dx, null];
        }, logits, targets);
    }
}
