using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// AdaGrad, as <c>torch.optim.Adagrad</c> (without its <c>lr_decay</c>) and Caffe's AdaGradSolver. With
/// <c>g' = g + wd*w</c>:
/// <code>
/// s += g'^2                      "sum" (Caffe's history), starting at initialAccumulatorValue
/// w -= lr * g' / (sqrt(s) + eps)
/// </code>
/// PyTorch's default eps is 1e-10; Caffe calls it <c>delta</c> and defaults it to 1e-8.
/// </summary>
public sealed class AdaGrad : Optimizer
{
    private static readonly string[] Names = ["sum"];

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Base learning rate.</param>
    /// <param name="epsilon">Added to the root (Caffe's <c>delta</c>), non-negative.</param>
    /// <param name="weightDecay">Base weight decay, added to the gradient.</param>
    /// <param name="initialAccumulatorValue">The starting value of the sum of squares (PyTorch's option), non-negative.</param>
    /// <param name="regularization">L2 or L1 weight decay.</param>
    public AdaGrad(IEnumerable<Parameter> parameters, float learningRate = 1e-2f, float epsilon = 1e-10f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, Regularization regularization = Regularization.L2)
        : base(parameters, learningRate, weightDecay, regularization)
    {
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        if (!(initialAccumulatorValue >= 0) || float.IsInfinity(initialAccumulatorValue))
            throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "The initial accumulator value must be finite and non-negative.");
        Epsilon = epsilon;
        InitialAccumulatorValue = initialAccumulatorValue;
    }

    /// <summary>Added to the root (Caffe's <c>delta</c>).</summary>
    public float Epsilon { get; }

    /// <summary>The starting value of the sum of squared gradients.</summary>
    public float InitialAccumulatorValue { get; }

    /// <summary>"sum".</summary>
    public override IReadOnlyList<string> StateNames => Names;

    protected override void InitializeState(ParameterState state) => Array.Fill(state.Buffers[0], InitialAccumulatorValue);

    protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
    {
        var w = weights;
        var g = gradient;
        var s = state.Buffers[0].AsSpan(0, w.Length);
        float lr = learningRate, eps = Epsilon;
        for (int i = 0; i < w.Length; i++)
        {
            s[i] += g[i] * g[i];
            w[i] -= lr * g[i] / (MathF.Sqrt(s[i]) + eps);
        }
    }

    protected override string ExtraDescription()
    {
        var parts = new List<string>();
        if (Epsilon != 1e-10f) parts.Add(Invariant($"eps={Epsilon}"));
        if (InitialAccumulatorValue != 0) parts.Add(Invariant($"initial_accumulator_value={InitialAccumulatorValue}"));
        return string.Join(", ", parts);
    }
}
