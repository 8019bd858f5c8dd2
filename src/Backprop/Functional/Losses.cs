namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Mean cross-entropy of logits against class labels, as one stable node (log-softmax and negative
    /// log-likelihood fused). logits: (N, C) or (N, C, d1, ...); labels: one per position (N·d1·…, row-major).
    /// Labels equal to <paramref name="ignoreIndex"/> add nothing and are not counted in the mean.
    /// The gradient is (softmax − one-hot) / count.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] labels, int ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.Rank < 2) throw new ArgumentException($"CrossEntropy expects logits of shape (N, C, ...), got {logits.Shape}.");
        var (outer, classes, inner) = SplitAxis(logits.Shape, 1);
        if (labels.Length != outer * inner)
            throw new ArgumentException($"CrossEntropy: {labels.Length} labels for logits of shape {logits.Shape}, which need {outer * inner}.");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] != ignoreIndex && (labels[i] < 0 || labels[i] >= classes))
                throw new ArgumentException($"CrossEntropy: label {labels[i]} at position {i} is outside [0, {classes}).");

        var logProb = TensorMemoryPool.RentFloats(logits.Length);
        Kernels.Softmax.Forward(logits.Data, outer, classes, inner, logProb, log: true);
        double total = 0;
        int count = 0;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[o * inner + j];
                if (label == ignoreIndex) continue;
                total -= logProb[(o * classes + label) * inner + j];
                count++;
            }
        var loss = Tensor.Scalar((float)(total / count));
        return Tensor.Record(loss, "CrossEntropyLossBackward", (dy, _) =>
        {
            float scale = dy.Item() / count;
            var dx = Tensor.Result(logits.Shape);
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    int label = labels[o * inner + j];
                    if (label == ignoreIndex) continue;
                    for (int k = 0; k < classes; k++)
                    {
                        int at = (o * classes + k) * inner + j;
                        d[at] = (MathF.Exp(logProb[at]) - (k == label ? 1f : 0f)) * scale;
                    }
                }
            return [dx];
        }, logits);
    }

    /// <summary>Mean squared error: mean((input − target)²).</summary>
    public static Tensor MseLoss(Tensor input, Tensor target) =>
        SquaredError(input, target, "MseLoss", "MseLossBackward", 1.0 / Math.Max(input.Length, 1));

    /// <summary>Caffe's EuclideanLoss: Σ (input − target)² / (2N), N the size of the first dimension.</summary>
    public static Tensor EuclideanLoss(Tensor input, Tensor target) =>
        SquaredError(input, target, "EuclideanLoss", "EuclideanLossBackward", 0.5 / Math.Max(input.Rank == 0 ? 1 : input.Shape[0], 1));

    private static Tensor SquaredError(Tensor input, Tensor target, string op, string node, double scale)
    {
        CheckSameShape(op, input, target);
        var diff = TensorMemoryPool.RentFloats(input.Length);
        System.Numerics.Tensors.TensorPrimitives.Subtract(input.Data, target.Data, diff);
        double s = 0;
        foreach (float d in diff) s += (double)d * d;
        var loss = Tensor.Scalar((float)(s * scale));
        return Tensor.Record(loss, node, (dy, needs) =>
        {
            float k = (float)(2 * scale) * dy.Item();
            Tensor? dx = null, dt = null;
            if (needs[0]) { dx = Tensor.Result(input.Shape); System.Numerics.Tensors.TensorPrimitives.Multiply(diff, k, dx.AsSpan()); }
            if (needs[1]) { dt = Tensor.Result(target.Shape); System.Numerics.Tensors.TensorPrimitives.Multiply(diff, -k, dt.AsSpan()); }
            return [dx, dt];
        }, input, target);
    }

    /// <summary>
    /// Smooth L1 (Huber-like) loss, mean over elements: 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β,
    /// with d = input − target. β = 0 is the L1 loss.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, float beta = 1f)
    {
        CheckSameShape("SmoothL1Loss", input, target);
        if (beta < 0) throw new ArgumentException($"SmoothL1Loss beta must be non-negative, got {beta}.");
        var diff = TensorMemoryPool.RentFloats(input.Length);
        System.Numerics.Tensors.TensorPrimitives.Subtract(input.Data, target.Data, diff);
        double s = 0;
        foreach (float d in diff)
        {
            double a = Math.Abs(d);
            s += a < beta ? 0.5 * a * a / beta : a - 0.5 * beta;
        }
        int n = Math.Max(input.Length, 1);
        var loss = Tensor.Scalar((float)(s / n));
        return Tensor.Record(loss, "SmoothL1LossBackward", (dy, needs) =>
        {
            float k = dy.Item() / n;
            var grad = new float[diff.Length];
            for (int i = 0; i < diff.Length; i++)
            {
                float d = diff[i];
                grad[i] = k * (MathF.Abs(d) < beta ? d / beta : MathF.Sign(d));
            }
            Tensor? dx = needs[0] ? Tensor.FromArray(grad, input.Shape.ToArray()) : null;
            Tensor? dt = null;
            if (needs[1]) { dt = Tensor.Result(target.Shape); System.Numerics.Tensors.TensorPrimitives.Negate(grad, dt.AsSpan()); }
            return [dx, dt];
        }, input, target);
    }

    private static void CheckSameShape(string op, Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (input.Shape != target.Shape)
            throw new ArgumentException($"{op}: input of shape {input.Shape} and target of shape {target.Shape} differ.");
    }

    /// <summary>
    /// Fraction of positions whose label is among the <paramref name="topK"/> highest scores, counted as
    /// Caffe's Accuracy layer does: correct when fewer than k classes score strictly higher than the label.
    /// scores: (N, C) or (N, C, d1, ...); labels as for <see cref="CrossEntropy"/>.
    /// </summary>
    public static float Accuracy(Tensor scores, int[] labels, int topK = 1, int ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Rank < 2) throw new ArgumentException($"Accuracy expects scores of shape (N, C, ...), got {scores.Shape}.");
        var (outer, classes, inner) = SplitAxis(scores.Shape, 1);
        if (labels.Length != outer * inner)
            throw new ArgumentException($"Accuracy: {labels.Length} labels for scores of shape {scores.Shape}, which need {outer * inner}.");
        if (topK < 1) throw new ArgumentException($"Accuracy top-k must be at least 1, got {topK}.");
        var x = scores.Data;
        int correct = 0, count = 0;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[o * inner + j];
                if (label == ignoreIndex) continue;
                if (label < 0 || label >= classes)
                    throw new ArgumentException($"Accuracy: label {label} at position {o * inner + j} is outside [0, {classes}).");
                float target = x[(o * classes + label) * inner + j];
                int better = 0;
                for (int k = 0; k < classes; k++)
                    if (x[(o * classes + k) * inner + j] > target) better++;
                if (better < topK && !float.IsNaN(target)) correct++;
                count++;
            }
        return count == 0 ? 0f : (float)correct / count;
    }
}
