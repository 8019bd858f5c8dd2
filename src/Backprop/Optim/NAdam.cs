using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// NAdam (Dozat: Adam with Nesterov momentum), as <c>torch.optim.NAdam</c>. With <c>g' = g + wd*w</c> and t the
/// parameter's step count, the momentum coefficient follows a warm-up schedule
/// <c>mu_t = beta1*(1 - 0.5*0.96^(t*momentumDecay))</c>, and with <c>P_t = mu_1*...*mu_t</c>:
/// <code>
/// m = beta1*m + (1-beta1)*g'
/// v = beta2*v + (1-beta2)*g'^2
/// d = sqrt(v / (1-beta2^t)) + eps
/// w -= lr * ((1-mu_t)/(1-P_t) * g' + mu_{t+1}/(1-P_t*mu_{t+1}) * m) / d
/// </code>
/// PyTorch's default momentumDecay is 0.004; Keras 3's <c>Nadam</c> is this rule with momentumDecay 1 (0.96^t) and eps
/// 1e-7. PyTorch 1.13 multiplies mu_t into <c>P_t*mu_{t+1}</c> a second time (fixed in later releases); this class
/// follows the paper, Keras and later PyTorch. <c>P_t</c> depends only on t, so restoring <see cref="ParameterState.Step"/> restores it.
/// </summary>
public sealed class NAdam : Optimizer
{
    private static readonly string[] Names = ["exp_avg", "exp_avg_sq"];

    // products[t] = mu_1 * ... * mu_t, extended as steps grow (every parameter usually shares the same t).
    private readonly List<double> products = [1.0];

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate (PyTorch's default 0.002).</param>
    /// <param name="beta1">Decay of the gradient average, in [0, 1).</param>
    /// <param name="beta2">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator, non-negative.</param>
    /// <param name="weightDecay">Base weight decay, added to the gradient.</param>
    /// <param name="momentumDecay">How fast the momentum schedule warms up (PyTorch 0.004, Keras 3 1.0), non-negative.</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public NAdam(IEnumerable<Parameter> parameters, float learningRate = 2e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, float momentumDecay = 4e-3f, Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        if (!(momentumDecay >= 0) || float.IsInfinity(momentumDecay))
            throw new ArgumentOutOfRangeException(nameof(momentumDecay), momentumDecay, "momentumDecay must be finite and non-negative.");
        (Beta1, Beta2, Epsilon, MomentumDecay) = (beta1, beta2, epsilon, momentumDecay);
    }

    /// <summary>Decay of the gradient average.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the squared-gradient average.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>The warm-up rate of the momentum schedule.</summary>
    public float MomentumDecay { get; }

    /// <summary>"exp_avg" and "exp_avg_sq".</summary>
    public override IReadOnlyList<string> StateNames => Names;

    private double Mu(int t) => Beta1 * (1 - 0.5 * Math.Pow(0.96, t * (double)MomentumDecay));

    private double Product(int t)
    {
        while (products.Count <= t) products.Add(products[^1] * Mu(products.Count));
        return products[t];
    }

    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        var m = state.Buffers[0].AsSpan(0, w.Length);
        var v = state.Buffers[1].AsSpan(0, w.Length);
        int t = state.Step;
        double mu = Mu(t), muNext = Mu(t + 1), product = Product(t);
        // Scalars in double, as PyTorch computes them in Python floats.
        float gradScale = (float)(learningRate * (1 - mu) / (1 - product));
        float momentumScale = (float)(learningRate * muNext / (1 - product * muNext));
        float correction2 = (float)(1 - Math.Pow(Beta2, t));
        float b1 = Beta1, b2 = Beta2, eps = Epsilon;
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            float denominator = MathF.Sqrt(v[i] / correction2) + eps;
            w[i] -= gradScale * g[i] / denominator + momentumScale * m[i] / denominator;
        }
    }

    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Beta1 != 0.9f || Beta2 != 0.999f) parts.Add(Invariant($"betas=({Beta1}, {Beta2})"));
        if (Epsilon != 1e-8f) parts.Add(Invariant($"eps={Epsilon}"));
        if (MomentumDecay != 4e-3f) parts.Add(Invariant($"momentum_decay={MomentumDecay}"));
        return string.Join(", ", parts);
    }
}
