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
    /// with d = input − target. β = 0 is the L1 loss. The mean of an empty input is 0.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, float beta = 1f) =>
        SmoothL1Loss(input, target, beta, LossReduction.Mean);

    /// <summary>
    /// Smooth L1 loss with a reduction and optional per-element weights, as py-faster-rcnn's SmoothL1Loss layer
    /// (its sigma is β = 1/σ²): d = insideWeights·(input − target); l = 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β
    /// (β = 0 is the L1 loss, as torch.nn.functional.smooth_l1_loss); the result is the reduction of outsideWeights·l.
    /// py-faster-rcnn's layer is <see cref="LossReduction.Sum"/> divided by the batch size. Weights are null (1) or of the
    /// input's shape and get no gradient; input and target get the exact gradient
    /// outsideWeights·insideWeights·(d/β or sign d), in one node "SmoothL1LossBackward" (py-faster-rcnn leaves out the
    /// inside weight there, which is the same for its 0/1 weights). Mean over an empty input is 0.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, float beta, LossReduction reduction,
        Tensor? insideWeights = null, Tensor? outsideWeights = null)
    {
        CheckSameShape("SmoothL1Loss", input, target);
        if (!(beta >= 0)) throw new ArgumentException($"SmoothL1Loss beta must be non-negative, got {beta}.", nameof(beta));
        if (reduction is not (LossReduction.Mean or LossReduction.Sum or LossReduction.None))
            throw new ArgumentException($"SmoothL1Loss: unknown reduction {reduction}.", nameof(reduction));
        if (insideWeights is not null && insideWeights.Shape != input.Shape)
            throw new ArgumentException($"SmoothL1Loss: insideWeights of shape {insideWeights.Shape} differ from input of shape {input.Shape}.", nameof(insideWeights));
        if (outsideWeights is not null && outsideWeights.Shape != input.Shape)
            throw new ArgumentException($"SmoothL1Loss: outsideWeights of shape {outsideWeights.Shape} differ from input of shape {input.Shape}.", nameof(outsideWeights));

        // The weights are copied: a caller may refill its weight buffers before backward runs.
        float[]? inside = insideWeights?.ToArray(), outside = outsideWeights?.ToArray();
        var d = new float[input.Length];
        var perElement = reduction == LossReduction.None ? Tensor.Uninitialized(input.Shape) : null;
        Span<float> terms = perElement is null ? TensorMemoryPool.RentFloats(input.Length) : perElement.AsSpan();
        Kernels.SmoothL1.Forward(input.Data, target.Data, inside, outside, beta, d, terms);
        float scale = reduction == LossReduction.Mean ? 1f / Math.Max(input.Length, 1) : 1f;
        Tensor loss = perElement ?? Tensor.Scalar((float)(Sum(terms) * scale));

        return Tensor.Record(loss, "SmoothL1LossBackward", (dy, needs) =>
        {
            var grad = Tensor.Uninitialized(input.Shape);
            Kernels.SmoothL1.Backward(d, inside, outside, beta, dy.Data, scale, grad.AsSpan());
            Tensor? dt = null;
            if (needs[1]) { dt = Tensor.Uninitialized(target.Shape); System.Numerics.Tensors.TensorPrimitives.Negate(grad.Data, dt.AsSpan()); }
            return [needs[0] ? grad : null, dt];
        }, input, target);
    }

    private static double Sum(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (float v in values) s += v;
        return s;
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
