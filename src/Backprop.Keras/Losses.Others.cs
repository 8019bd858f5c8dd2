namespace Backprop.Keras;

/// <summary>
/// Keras's margin, robust and divergence losses, each as Keras 3 defines it: a per-sample value over the last axis,
/// averaged over the batch. Built from core ops, so autograd gives their gradients.
/// </summary>
public static partial class Losses
{
    // A property, not a field: Names (in the other file) reads it during static initialization.
    private static string[] OtherNames =>
    [
        "hinge", "squared_hinge", "categorical_hinge", "huber", "huber_loss", "kl_divergence", "kld", "kullback_leibler_divergence",
        "log_cosh", "logcosh", "poisson", "mean_squared_logarithmic_error", "msle", "mean_absolute_percentage_error", "mape",
        "cosine_similarity",
    ];

    /// <summary>Huber's threshold: quadratic below, linear above (Keras's default delta).</summary>
    private const float HuberDelta = 1f;

    private static string NormalizeOther(string name) => name switch
    {
        "huber_loss" => "huber",
        "kld" or "kullback_leibler_divergence" => "kl_divergence",
        "logcosh" => "log_cosh",
        "mean_squared_logarithmic_error" => "msle",
        "mean_absolute_percentage_error" => "mape",
        _ => name,
    };

    private static Tensor ComputeOther(string loss, Tensor p, Tensor y)
    {
        int b = p.Shape[0];
        y = y.Detach();
        switch (loss)
        {
            case "hinge":          // mean(max(1 − y·p, 0)), y in {−1, 1} (0/1 labels converted)
                return Functional.Relu(1f - SignedLabels(y) * p).Mean();
            case "squared_hinge":  // mean(max(1 − y·p, 0)²)
            {
                var margin = Functional.Relu(1f - SignedLabels(y) * p);
                return (margin * margin).Mean();
            }
            case "categorical_hinge":   // max(max((1 − y)·p) − sum(y·p) + 1, 0)
            {
                var positive = (y * p).Sum(1);
                var negative = ((1f - y) * p).Max(1);
                return Functional.Relu(negative - positive + 1f).Mean();
            }
            case "huber":          // ½e² where |e| ≤ δ, else δ·|e| − ½δ²: split |e| into its quadratic and linear parts
            {
                var error = (p - y).Abs();
                var quadratic = error.Clamp(max: HuberDelta);
                return (0.5f * quadratic * quadratic + HuberDelta * (error - quadratic)).Mean();
            }
            case "kl_divergence":  // sum(y·log(y/p)) with both clipped to [ε, 1]
            {
                var t = y.Clamp(Clip, 1f);
                return (t * (t / p.Clamp(Clip, 1f)).Log()).Sum() / b;
            }
            case "log_cosh":       // log(cosh e) = |e| + log(1 + e^(−2|e|)) − log 2, stable for any e
            {
                var a = (p - y).Abs();
                return (a + ((-2f * a).Exp() + 1f).Log() - MathF.Log(2f)).Mean();
            }
            case "poisson":        // mean(p − y·log(p + ε))
                return (p - y * (p + Clip).Log()).Mean();
            case "msle":           // mean((log(max(p, ε) + 1) − log(max(y, ε) + 1))²)
            {
                var d = (p.Clamp(Clip) + 1f).Log() - (y.Clamp(Clip) + 1f).Log();
                return (d * d).Mean();
            }
            case "mape":           // 100·mean(|y − p| / max(|y|, ε))
                return 100f * ((y - p).Abs() / y.Abs().Clamp(Clip)).Mean();
            case "cosine_similarity":   // −sum(ŷ·p̂), each row scaled to unit length (squared norm floored at 1e-12)
                return -(UnitRows(y) * UnitRows(p)).Sum() / b;
            default:
                throw new ArgumentException($"Unknown loss '{loss}'.");
        }
    }

    /// <summary>Keras's hinge labels: targets that are all 0 or 1 become −1 or 1; others are used as given.</summary>
    private static Tensor SignedLabels(Tensor y)
    {
        foreach (float v in y.AsSpan())
            if (v != 0f && v != 1f) return y;
        return 2f * y - 1f;
    }

    private static Tensor UnitRows(Tensor x) => x / (x * x).Sum(1, keepDim: true).Clamp(1e-12f).Sqrt();
}
