using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// RMSProp, as <c>torch.optim.RMSprop</c>, which with its defaults is also Caffe's RMSPropSolver. With
/// <c>g' = g + wd*w</c>:
/// <code>
/// v = alpha*v + (1-alpha)*g'^2                    "square_avg"
/// centered: a = alpha*a + (1-alpha)*g'; d = sqrt(v - a^2) + eps, else d = sqrt(v) + eps   "grad_avg"
/// momentum &gt; 0: b = momentum*b + g'/d; w -= lr*b                                       "momentum_buffer"
/// else: w -= lr*g'/d
/// </code>
/// In Caffe's terms alpha is <c>rms_decay</c> and eps is <c>delta</c> (Caffe has no momentum or centering here).
/// Buffers are kept in the order square_avg, momentum_buffer (with momentum), grad_avg (when centered).
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly string[] names;

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate.</param>
    /// <param name="alpha">Decay of the squared-gradient average (Caffe's <c>rms_decay</c>), in [0, 1].</param>
    /// <param name="epsilon">Added to the root (Caffe's <c>delta</c>), non-negative.</param>
    /// <param name="weightDecay">Base weight decay, added to the gradient.</param>
    /// <param name="momentum">Momentum factor (0 for none).</param>
    /// <param name="centered">Normalize by the estimated variance instead of the raw second moment.</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public RmsProp(IEnumerable<Parameter> parameters, float learningRate = 1e-2f, float alpha = 0.99f, float epsilon = 1e-8f,
        float weightDecay = 0f, float momentum = 0f, bool centered = false, Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1].");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        if (!(momentum >= 0) || float.IsInfinity(momentum))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be finite and non-negative.");
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
        var list = new List<string> { "square_avg" };
        if (momentum > 0) list.Add("momentum_buffer");
        if (centered) list.Add("grad_avg");
        names = [.. list];
    }

    /// <summary>Decay of the squared-gradient average (Caffe's <c>rms_decay</c>).</summary>
    public float Alpha { get; }

    /// <summary>Added to the root (Caffe's <c>delta</c>).</summary>
    public float Epsilon { get; }

    /// <summary>Momentum factor (0 for none).</summary>
    public float Momentum { get; }

    /// <summary>Whether the second moment is centered by the gradient average.</summary>
    public bool Centered { get; }

    /// <summary>"square_avg", then "momentum_buffer" (with momentum) and "grad_avg" (when centered).</summary>
    public override IReadOnlyList<string> StateNames => names;

    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        float a = Alpha, eps = Epsilon, mom = Momentum, lr = learningRate;
        var v = state.Buffers[0].AsSpan(0, w.Length);
        int next = 1;
        var buf = mom > 0 ? state.Buffers[next++].AsSpan(0, w.Length) : default;
        var avg = Centered ? state.Buffers[next].AsSpan(0, w.Length) : default;
        for (int i = 0; i < w.Length; i++)
        {
            float gi = g[i];
            v[i] = a * v[i] + (1 - a) * gi * gi;
            float d;
            if (Centered)
            {
                avg[i] = a * avg[i] + (1 - a) * gi;
                d = MathF.Sqrt(v[i] - avg[i] * avg[i]) + eps;
            }
            else d = MathF.Sqrt(v[i]) + eps;
            if (mom > 0)
            {
                buf[i] = mom * buf[i] + gi / d;
                w[i] -= lr * buf[i];
            }
            else w[i] -= lr * gi / d;
        }
    }

    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Alpha != 0.99f) parts.Add(Invariant($"alpha={Alpha}"));
        if (Epsilon != 1e-8f) parts.Add(Invariant($"eps={Epsilon}"));
        if (Momentum != 0) parts.Add(Invariant($"momentum={Momentum}"));
        if (Centered) parts.Add("centered=True");
        return string.Join(", ", parts);
    }
}
