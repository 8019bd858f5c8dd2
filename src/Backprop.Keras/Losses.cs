namespace Backprop.Keras;

/// <summary>
/// Keras's losses by name, each the mean over the batch of a per-sample loss. When the model ends in softmax
/// (cross-entropies) or sigmoid (binary_crossentropy) the loss is computed from the logits before that
/// activation, in one stable expression, as Keras does internally; otherwise from the outputs as probabilities,
/// clipped to [1e-7, 1 − 1e-7] as Keras clips them.
/// </summary>
public static partial class Losses
{
    /// <summary>The names accepted.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse", "mean_squared_error", "mae", "mean_absolute_error",
         .. OtherNames];

    private const float Clip = 1e-7f;

    /// <summary>Checks a loss name and returns it normalized (mean_squared_error → mse, kld → kl_divergence, ...).</summary>
    public static string Validate(string name)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "";
        if (!Names.Contains(n)) throw new ArgumentException($"Unknown loss '{name}'. Known losses: {string.Join(", ", Names)}.");
        return n switch { "mean_squared_error" => "mse", "mean_absolute_error" => "mae", _ => NormalizeOther(n) };
    }

    /// <summary>The activation that the loss absorbs (computing from logits), or null.</summary>
    internal static string? FusedActivation(string loss) => loss switch
    {
        "categorical_crossentropy" or "sparse_categorical_crossentropy" => "softmax",
        "binary_crossentropy" => "sigmoid",
        _ => null,
    };

    /// <summary>The loss of a (B, C) output against the batch's targets; <paramref name="fromLogits"/> when the final activation was left out.</summary>
    internal static Tensor Compute(string loss, Tensor output, Tensor? y, int[]? labels, bool fromLogits)
    {
        int b = output.Shape[0];
        switch (loss)
        {
            case "sparse_categorical_crossentropy":
                if (fromLogits) return Functional.CrossEntropy(output, labels!);
                return CategoricalFromProbabilities(output, OneHot(labels!, output.Shape[1]));
            case "categorical_crossentropy":
                if (!fromLogits) return CategoricalFromProbabilities(output, y!);
                if (OneHotLabels(y!) is { } l) return Functional.CrossEntropy(output, l);
                return -(y! * Functional.LogSoftmax(output, 1)).Sum() / b;
            case "binary_crossentropy":
                if (fromLogits) return BinaryCrossEntropyWithLogits(output, y!);
                var p = output.Clamp(Clip, 1 - Clip);
                return -(y! * p.Log() + (1f - y!) * (1f - p).Log()).Mean();
            case "mse":
                return Functional.MseLoss(output, y!);
            case "mae":
                return (output - y!).Abs().Mean();
            default:
                return ComputeOther(loss, output, y!);
        }
    }

    /// <summary>
    /// The sample-weighted loss, Keras's <c>sum_over_batch_size</c> reduction: each sample's loss times its weight,
    /// summed over the batch and divided by the batch size (so weights of 1 give <see cref="Compute"/>).
    /// <paramref name="weights"/> holds one weight per sample, shape (B).
    /// </summary>
    internal static Tensor ComputeWeighted(string loss, Tensor output, Tensor? y, int[]? labels, bool fromLogits, Tensor weights)
    {
        int b = output.Shape[0];
        return (PerSample(loss, output, y, labels, fromLogits) * weights.Detach().Reshape(b)).Sum() / b;
    }

    /// <summary>Each sample's loss, shape (B): the per-sample terms that <see cref="Compute"/> averages.</summary>
    internal static Tensor PerSample(string loss, Tensor output, Tensor? y, int[]? labels, bool fromLogits)
    {
        int b = output.Shape[0], width = output.Length / Math.Max(b, 1);
        var o = output.Reshape(b, width);
        switch (loss)
        {
            case "sparse_categorical_crossentropy":
            case "categorical_crossentropy":
                var target = labels is not null ? OneHot(labels, width) : y!.Reshape(b, width);
                if (fromLogits) return -(target * Functional.LogSoftmax(o, 1)).Sum(1);
                return -(target * (o / o.Sum(1, keepDim: true)).Clamp(Clip, 1 - Clip).Log()).Sum(1);
            case "binary_crossentropy":
                var t = y!.Reshape(b, width);
                if (fromLogits)
                {
                    var pair = Tensor.Concat([Tensor.Zeros(b * width, 1), o.Reshape(b * width, 1)], 1);
                    var tt = t.Detach().Reshape(b * width, 1);
                    var perValue = -(Functional.LogSoftmax(pair, 1) * Tensor.Concat([1f - tt, tt], 1)).Sum(1);
                    return perValue.Reshape(b, width).Mean(1);
                }
                var p = o.Clamp(Clip, 1 - Clip);
                return (-(t * p.Log() + (1f - t) * (1f - p).Log())).Mean(1);
            case "mse":
                var d = o - y!.Reshape(b, width);
                return (d * d).Mean(1);
            case "mae":
                return (o - y!.Reshape(b, width)).Abs().Mean(1);
            default:
                throw new ArgumentException($"Unknown loss '{loss}'.");
        }
    }

    /// <summary>
    /// Mean binary cross-entropy of logits z against targets y, stable for any z: each logit becomes the pair
    /// (0, z), whose log-softmax is (log(1 − σ(z)), log σ(z)), so the gradient σ(z) − y is exact everywhere.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Length != targets.Length)
            throw new ArgumentException($"binary_crossentropy: output {logits.Shape} and targets {targets.Shape} differ in size.");
        int m = logits.Length;
        var pair = Tensor.Concat([Tensor.Zeros(m, 1), logits.Reshape(m, 1)], 1);
        var t = targets.Detach().Reshape(m, 1);
        var weights = Tensor.Concat([1f - t, t], 1);
        return -(Functional.LogSoftmax(pair, 1) * weights).Sum() / m;
    }

    private static Tensor CategoricalFromProbabilities(Tensor p, Tensor y)
    {
        var normalized = p / p.Sum(1, keepDim: true);
        return -(y * normalized.Clamp(Clip, 1 - Clip).Log()).Sum() / p.Shape[0];
    }

    private static Tensor OneHot(int[] labels, int classes)
    {
        var t = Tensor.Zeros(labels.Length, classes);
        var d = t.AsSpan();
        for (int i = 0; i < labels.Length; i++) d[i * classes + labels[i]] = 1f;
        return t;
    }

    /// <summary>The class of each row when every row is exactly one-hot, else null.</summary>
    private static int[]? OneHotLabels(Tensor y)
    {
        int n = y.Shape[0], c = y.Shape[1];
        var d = y.AsSpan();
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int hot = -1;
            for (int j = 0; j < c; j++)
            {
                float v = d[i * c + j];
                if (v == 1f && hot < 0) hot = j;
                else if (v != 0f) return null;
            }
            if (hot < 0) return null;
            labels[i] = hot;
        }
        return labels;
    }
}
