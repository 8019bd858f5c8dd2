using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter), as <c>torch.optim.AdamW</c>: the decay does not enter
/// the gradient but shrinks the weights directly before the <see cref="Adam"/> step, <c>w -= lr*wd*w</c> (L2), or
/// <c>w -= lr*wd*sign(w)</c> (L1), with the parameter's effective lr and wd. The default decay is 0.01, as PyTorch.
/// </summary>
public sealed class AdamW : Adam
{
    /// <inheritdoc cref="Adam(IEnumerable{Parameter}, float, float, float, float, float, AdamStyle, Regularization)"/>
    public AdamW(IEnumerable<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0.01f, AdamStyle style = AdamStyle.PyTorch,
        Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, style, regularization) { }

    /// <inheritdoc/>
    protected override bool DecouplesWeightDecay => true;

    private protected override void ApplyDecoupledDecay(Span<float> w, float learningRate, float weightDecay)
    {
        float k = learningRate * weightDecay;
        if (k == 0) return;
        if (Regularization == Regularization.L2)
        {
            float scale = 1 - k;
            for (int i = 0; i < w.Length; i++) w[i] *= scale;
        }
        else
        {
            for (int i = 0; i < w.Length; i++) w[i] -= k * Sign(w[i]);
        }
    }
}
