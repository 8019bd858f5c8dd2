using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// Adam (Kingma and Ba), as <c>torch.optim.Adam</c>. With <c>g' = g + wd*w</c> (L2 decay through the gradient;
/// <see cref="AdamW"/> decouples it) and t the parameter's step count (1 on its first update):
/// <code>
/// m = beta1*m + (1-beta1)*g'
/// v = beta2*v + (1-beta2)*g'^2
/// w -= (lr / (1-beta1^t)) * m / (sqrt(v) / sqrt(1-beta2^t) + eps)
/// </code>
/// <see cref="AdamStyle.Caffe"/> adds eps before the bias correction instead:
/// <c>w -= lr * sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + eps)</c> (Caffe's <c>momentum</c>, <c>momentum2</c>
/// and <c>delta</c> are beta1, beta2 and eps). Buffers: "exp_avg" (m), "exp_avg_sq" (v), in Caffe's history order.
/// </summary>
public class Adam : Optimizer
{
    private static readonly string[] Names = ["exp_avg", "exp_avg_sq"];

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate.</param>
    /// <param name="beta1">Decay of the gradient average, in [0, 1).</param>
    /// <param name="beta2">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator, non-negative.</param>
    /// <param name="weightDecay">Base weight decay, added to the gradient.</param>
    /// <param name="style">Where epsilon goes (PyTorch or Caffe).</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public Adam(IEnumerable<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, AdamStyle style = AdamStyle.PyTorch,
        Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        if (!Enum.IsDefined(style)) throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown Adam style.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        Style = style;
    }

    /// <summary>Decay of the gradient average (Caffe's <c>momentum</c>).</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the squared-gradient average (Caffe's <c>momentum2</c>).</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator (Caffe's <c>delta</c>).</summary>
    public float Epsilon { get; }

    /// <summary>Where epsilon is added.</summary>
    public AdamStyle Style { get; }

    /// <summary>"exp_avg" and "exp_avg_sq".</summary>
    public override IReadOnlyList<string> StateNames => Names;

    /// <inheritdoc/>
    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        if (DecouplesWeightDecay) ApplyDecoupledDecay(w, learningRate, weightDecay);
        var m = state.Buffers[0].AsSpan(0, w.Length);
        var v = state.Buffers[1].AsSpan(0, w.Length);
        float b1 = Beta1, b2 = Beta2, eps = Epsilon;
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        }
        // Scalars in double, as PyTorch computes them in Python floats.
        double correction1 = 1 - Math.Pow(Beta1, state.Step);
        double correction2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, state.Step));
        if (Style == AdamStyle.PyTorch)
        {
            float stepSize = (float)(learningRate / correction1);
            float invSqrt2 = (float)(1 / correction2Sqrt);
            for (int i = 0; i < w.Length; i++) w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrt2 + eps);
        }
        else
        {
            float stepSize = (float)(learningRate * correction2Sqrt / correction1);
            for (int i = 0; i < w.Length; i++) w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }

    /// <summary>The decoupled decay of <see cref="AdamW"/>, applied before the Adam step.</summary>
    private protected virtual void ApplyDecoupledDecay(Span<float> w, float learningRate, float weightDecay) { }

    /// <inheritdoc/>
    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Beta1 != 0.9f || Beta2 != 0.999f) parts.Add(Invariant($"betas=({Beta1}, {Beta2})"));
        if (Epsilon != 1e-8f) parts.Add(Invariant($"eps={Epsilon}"));
        if (Style != AdamStyle.PyTorch) parts.Add($"style={Style}");
        return string.Join(", ", parts);
    }
}
