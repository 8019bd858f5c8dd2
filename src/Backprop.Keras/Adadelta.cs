using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Adadelta</c> (learning rate 0.001, ρ 0.95, ε 1e-7). Keras's rule is Zeiler's, as the core's
/// <see cref="Backprop.Optim.AdaDelta"/>: v = ρ·v + (1−ρ)·g²; d = √(u + ε)/√(v + ε)·g; u = ρ·u + (1−ρ)·d²; w −= lr·d.
/// Keras's default learning rate is a thousandth of the paper's 1.0, so it trains slowly unless raised.
/// </summary>
public sealed class Adadelta(double learningRate = 0.001, double rho = 0.95, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Rho { get; } = rho;
    public double Epsilon { get; } = epsilon;
    public override string Name => "adadelta";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new Backprop.Optim.AdaDelta(parameters, (float)LearningRate, (float)Rho, (float)Epsilon);

    public override string ToString() => Invariant($"Adadelta(learning_rate={LearningRate}, rho={Rho})");
}
