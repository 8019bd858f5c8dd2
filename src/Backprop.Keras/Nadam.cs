using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Nadam</c> (learning rate 0.001, β1 0.9, β2 0.999, ε 1e-7): Adam with Nesterov momentum whose coefficient
/// warms up as μₜ = β1·(1 − ½·0.96ᵗ). That is the core's <see cref="Backprop.Optim.NAdam"/> with momentum decay 1
/// (PyTorch's default 0.004 warms up far more slowly).
/// </summary>
public sealed class Nadam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public override string Name => "nadam";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new Backprop.Optim.NAdam(parameters, (float)LearningRate, (float)Beta1, (float)Beta2, (float)Epsilon, momentumDecay: 1f);

    public override string ToString() => Invariant($"Nadam(learning_rate={LearningRate})");
}
