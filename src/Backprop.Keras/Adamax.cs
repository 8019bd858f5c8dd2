using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Adamax</c> (learning rate 0.001, β1 0.9, β2 0.999, ε 1e-7), Adam with the infinity norm:
/// m = β1·m + (1−β1)·g; u = max(β2·u, |g|); w −= lr·m/((1 − β1ᵗ)·(u + ε)). PyTorch puts ε inside the max instead
/// (u = max(β2·u, |g| + ε)).
/// </summary>
public sealed class Adamax(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public override string Name => "adamax";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new KerasAdamax(parameters, (float)LearningRate, (float)Beta1, (float)Beta2, (float)Epsilon);

    public override string ToString() => Invariant($"Adamax(learning_rate={LearningRate})");

    private sealed class KerasAdamax : Optimizer
    {
        private static readonly string[] Names = ["momentum", "norm"];
        private readonly float beta1, beta2, epsilon;

        public KerasAdamax(IEnumerable<Parameter> parameters, float learningRate, float beta1, float beta2, float epsilon)
            : base(parameters, learningRate, 0f, Regularization.L2)
        {
            if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
            if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
            if (!(epsilon >= 0) || float.IsInfinity(epsilon))
                throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
            (this.beta1, this.beta2, this.epsilon) = (beta1, beta2, epsilon);
        }

        public override IReadOnlyList<string> StateNames => Names;

        protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
        {
            var m = state.Buffers[0].AsSpan(0, weights.Length);
            var u = state.Buffers[1].AsSpan(0, weights.Length);
            float correction = (float)(1 - Math.Pow(beta1, state.Step));
            for (int i = 0; i < weights.Length; i++)
            {
                float g = gradient[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                u[i] = MathF.Max(beta2 * u[i], MathF.Abs(g));
                weights[i] -= learningRate * m[i] / (correction * (u[i] + epsilon));
            }
        }
    }
}
