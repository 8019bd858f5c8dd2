namespace Backprop.Keras;

/// <summary>
/// Keras's metrics by name. "accuracy" (or "acc") resolves by loss as Keras does: categorical_accuracy (argmax of
/// output against argmax of a one-hot y), sparse_categorical_accuracy (argmax against the label), or
/// binary_accuracy (output above 0.5 against y). "mae" and "mse" are the mean absolute and squared errors.
/// "precision", "recall" and "auc" are <see cref="Precision"/>, <see cref="Recall"/> and <see cref="AUC"/> with Keras's defaults.
/// </summary>
public static class Metrics
{
    public static IReadOnlyList<string> Names { get; } =
        ["accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "mae", "mse", "precision", "recall", "auc"];

    public static string Validate(string name)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "";
        if (!Names.Contains(n)) throw new ArgumentException($"Unknown metric '{name}'. Known metrics: {string.Join(", ", Names)}.");
        return n;
    }

    /// <summary>The concrete metric that <paramref name="metric"/> means with <paramref name="loss"/> and <paramref name="outputWidth"/>.</summary>
    internal static string Resolve(string metric, string loss, int outputWidth) => metric switch
    {
        "accuracy" or "acc" => loss switch
        {
            "sparse_categorical_crossentropy" => "sparse_categorical_accuracy",
            "categorical_crossentropy" => "categorical_accuracy",
            "binary_crossentropy" => "binary_accuracy",
            _ => outputWidth == 1 ? "binary_accuracy" : "categorical_accuracy",
        },
        _ => metric,
    };

    /// <summary>
    /// The metric's sum over the batch and the count it is averaged by. <paramref name="output"/> is (B, C), as
    /// logits when <paramref name="fromLogits"/> (a sigmoid's 0.5 threshold is then 0).
    /// </summary>
    internal static (double Sum, long Count) Update(string resolved, Tensor output, Tensor? y, int[]? labels, bool fromLogits)
    {
        int b = output.Shape[0], c = output.Length / Math.Max(b, 1);
        var o = output.AsSpan();
        switch (resolved)
        {
            case "sparse_categorical_accuracy":
            case "categorical_accuracy":
            {
                var predicted = output.Reshape(b, c).ArgMax(1);
                int[] truth = labels ?? y!.Reshape(b, -1).ArgMax(1);
                int correct = 0;
                for (int i = 0; i < b; i++) if (predicted[i] == truth[i]) correct++;
                return (correct, b);
            }
            case "binary_accuracy":
            {
                float threshold = fromLogits ? 0f : 0.5f;
                var t = y!.AsSpan();
                int correct = 0;
                for (int i = 0; i < o.Length; i++) if ((o[i] > threshold) == (t[i] > 0.5f)) correct++;
                return (correct, o.Length);
            }
            case "mae":
            case "mse":
            {
                var t = y!.AsSpan();
                double s = 0;
                for (int i = 0; i < o.Length; i++)
                {
                    double d = o[i] - t[i];
                    s += resolved == "mae" ? Math.Abs(d) : d * d;
                }
                return (s, o.Length);
            }
            default:
                throw new ArgumentException($"Unknown metric '{resolved}'.");
        }
    }
}
