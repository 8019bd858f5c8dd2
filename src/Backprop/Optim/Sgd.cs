using Backprop.Kernels;
using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum and Nesterov momentum, in PyTorch's or Caffe's form
/// (<see cref="SgdMomentumStyle"/>). With <c>g' = g + wd*w</c> (or the L1 form), momentum m, effective rate lr:
/// <list type="bullet">
/// <item>PyTorch: <c>v = m*v + (1-dampening)*g'</c> (<c>v = g'</c> on a parameter's first step); <c>w -= lr*v</c>,
/// or with Nesterov <c>w -= lr*(g' + m*v)</c>. With momentum 0 no buffer is kept: <c>w -= lr*g'</c>.</item>
/// <item>Caffe (SGDSolver): <c>v = m*v + lr*g'</c>; <c>w -= v</c>. Nesterov (NesterovSolver):
/// <c>v_new = m*v_old + lr*g'</c>; <c>w -= (1+m)*v_new - m*v_old</c>. The buffer ("momentum", Caffe's history)
/// is kept even with momentum 0, as Caffe saves it in its .solverstate.</item>
/// </list>
/// </summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] MomentumName = ["momentum"];

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate.</param>
    /// <param name="momentum">Momentum factor m (0 for plain SGD).</param>
    /// <param name="weightDecay">Base weight decay.</param>
    /// <param name="nesterov">Nesterov momentum (needs momentum &gt; 0 and dampening 0).</param>
    /// <param name="style">PyTorch (rate outside the buffer) or Caffe (rate inside it).</param>
    /// <param name="dampening">PyTorch's dampening; must be 0 in Caffe style.</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public Sgd(IEnumerable<Parameter> parameters, float learningRate, float momentum = 0f, float weightDecay = 0f,
        bool nesterov = false, SgdMomentumStyle style = SgdMomentumStyle.PyTorch, float dampening = 0f,
        Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(momentum >= 0) || float.IsInfinity(momentum))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be finite and non-negative.");
        if (!(dampening >= 0) || float.IsInfinity(dampening))
            throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "Dampening must be finite and non-negative.");
        if (!Enum.IsDefined(style))
            throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown momentum style.");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum needs momentum > 0 and dampening 0, but momentum is {momentum} and dampening {dampening}.", nameof(nesterov));
        if (style == SgdMomentumStyle.Caffe && dampening != 0)
            throw new ArgumentException($"Caffe-style momentum has no dampening, but dampening is {dampening}.", nameof(dampening));
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        Style = style;
    }

    /// <summary>The momentum factor m.</summary>
    public float Momentum { get; }

    /// <summary>PyTorch's dampening (0 in Caffe style).</summary>
    public float Dampening { get; }

    /// <summary>Whether the update uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>Where the learning rate goes: outside (PyTorch) or inside (Caffe) the momentum buffer.</summary>
    public SgdMomentumStyle Style { get; }

    /// <summary>"momentum" (Caffe's history), or nothing for PyTorch-style SGD without momentum.</summary>
    public override IReadOnlyList<string> StateNames =>
        Style == SgdMomentumStyle.PyTorch && Momentum == 0 ? [] : MomentumName;

    // Caffe's plain momentum step with L2 decay runs as one fused kernel, so Step hands it the raw gradient.
    private bool FusesWeightDecay => Style == SgdMomentumStyle.Caffe && !Nesterov && Regularization == Regularization.L2;

    /// <inheritdoc/>
    protected override bool DecouplesWeightDecay => FusesWeightDecay;

    /// <inheritdoc/>
    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        float lr = learningRate, m = Momentum;
        if (Style == SgdMomentumStyle.Caffe)
        {
            var v = state.Buffers[0].AsSpan(0, w.Length);
            if (FusesWeightDecay)
            {
                Updates.SgdCaffe(w, v, g, weightDecay, m, lr);   // decay, history and step in one pass
                return;
            }
            // Nesterov: w -= (1+m)*v_new - m*v_old with v_new = m*v_old + lr*g (w first, from the old v).
            if (Nesterov) Updates.NesterovCaffe(w, v, g, m, lr);
            Updates.Axpby(m, v, lr, g, v);              // v = m*v + lr*g
            if (!Nesterov) Updates.SubtractScaled(w, 1f, v);   // w -= v
            return;
        }

        if (m == 0)
        {
            Updates.SubtractScaled(w, lr, g);           // w -= lr*g
            return;
        }
        var buf = state.Buffers[0].AsSpan(0, w.Length);
        if (state.Step == 1) g.CopyTo(buf);             // buf = g on the first step
        else Updates.Axpby(m, buf, 1 - Dampening, g, buf);   // buf = m*buf + (1-dampening)*g
        if (Nesterov)
        {
            for (int i = 0; i < w.Length; i++) w[i] -= lr * (g[i] + m * buf[i]);
        }
        else
        {
            Updates.SubtractScaled(w, lr, buf);         // w -= lr*buf
        }
    }

    /// <inheritdoc/>
    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Momentum != 0) parts.Add(Invariant($"momentum={Momentum}"));
        if (Dampening != 0) parts.Add(Invariant($"dampening={Dampening}"));
        if (Nesterov) parts.Add("nesterov=True");
        if (Style != SgdMomentumStyle.PyTorch) parts.Add($"style={Style}");
        return string.Join(", ", parts);
    }
}
