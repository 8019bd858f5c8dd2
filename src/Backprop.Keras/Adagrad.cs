using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Adagrad</c> (learning rate 0.001, initial accumulator 0.1, ε 1e-7): s += g²; w −= lr·g/√(s + ε).
/// Keras puts ε inside the root, where the core's <see cref="AdaGrad"/> (PyTorch, Caffe) adds it outside.
/// </summary>
public sealed class Adagrad(double learningRate = 0.001, double initialAccumulatorValue = 0.1, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double InitialAccumulatorValue { get; } = initialAccumulatorValue;
    public double Epsilon { get; } = epsilon;
    public override string Name => "adagrad";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new KerasAdagrad(parameters, (float)LearningRate, (float)InitialAccumulatorValue, (float)Epsilon);

    public override string ToString() => Invariant($"Adagrad(learning_rate={LearningRate})");

    private sealed class KerasAdagrad : Optimizer
    {
        private static readonly string[] Names = ["accumulator"];
        private readonly float initial, epsilon;

        public KerasAdagrad(IEnumerable<Parameter> parameters, float learningRate, float initial, float epsilon)
            : base(parameters, learningRate, 0f, Regularization.L2)
        {
            if (!(initial >= 0) || float.IsInfinity(initial))
                throw new ArgumentOutOfRangeException(nameof(initial), initial, "initialAccumulatorValue must be finite and non-negative.");
            if (!(epsilon >= 0) || float.IsInfinity(epsilon))
                throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
            (this.initial, this.epsilon) = (initial, epsilon);
        }

        public override IReadOnlyList<string> StateNames => Names;

        protected override void InitializeState(ParameterState state) => Array.Fill(state.Buffers[0], initial);

        protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
        {
            var s = state.Buffers[0].AsSpan(0, weights.Length);
            for (int i = 0; i < weights.Length; i++)
            {
                float g = gradient[i];
                s[i] += g * g;
                weights[i] -= learningRate * g / MathF.Sqrt(s[i] + epsilon);
            }
        }
    }
}
