using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// AdaDelta (Zeiler), as <c>torch.optim.Adadelta</c> and Caffe's AdaDeltaSolver. With <c>g' = g + wd*w</c>:
/// <code>
/// v = rho*v + (1-rho)*g'^2                     "square_avg" (Caffe's first history blobs)
/// d = sqrt(u + eps) / sqrt(v + eps) * g'
/// u = rho*u + (1-rho)*d^2                      "acc_delta"  (Caffe's second history blobs)
/// w -= lr * d
/// </code>
/// In Caffe's terms rho is <c>momentum</c> and eps is <c>delta</c>; Caffe's examples use lr 1.0 as PyTorch's default.
/// </summary>
public sealed class AdaDelta : Optimizer
{
    private static readonly string[] Names = ["square_avg", "acc_delta"];

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate (1.0 in the paper and PyTorch).</param>
    /// <param name="rho">Decay of both running averages (Caffe's <c>momentum</c>), in [0, 1].</param>
    /// <param name="epsilon">Added inside both roots (Caffe's <c>delta</c>), non-negative.</param>
    /// <param name="weightDecay">Base weight decay, added to the gradient.</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public AdaDelta(IEnumerable<Parameter> parameters, float learningRate = 1f, float rho = 0.9f, float epsilon = 1e-6f,
        float weightDecay = 0f, Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(rho >= 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be in [0, 1].");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        Rho = rho;
        Epsilon = epsilon;
    }

    /// <summary>Decay of the running averages (Caffe's <c>momentum</c>).</summary>
    public float Rho { get; }

    /// <summary>Added inside both roots (Caffe's <c>delta</c>).</summary>
    public float Epsilon { get; }

    /// <summary>"square_avg" and "acc_delta".</summary>
    public override IReadOnlyList<string> StateNames => Names;

    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        var v = state.Buffers[0].AsSpan(0, w.Length);
        var u = state.Buffers[1].AsSpan(0, w.Length);
        float rho = Rho, eps = Epsilon, lr = learningRate;
        for (int i = 0; i < w.Length; i++)
        {
            v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
            float d = MathF.Sqrt(u[i] + eps) / MathF.Sqrt(v[i] + eps) * g[i];
            u[i] = rho * u[i] + (1 - rho) * d * d;
            w[i] -= lr * d;
        }
    }

    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Rho != 0.9f) parts.Add(Invariant($"rho={Rho}"));
        if (Epsilon != 1e-6f) parts.Add(Invariant($"eps={Epsilon}"));
        return string.Join(", ", parts);
    }
}
