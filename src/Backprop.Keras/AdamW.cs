using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>AdamW</c> (learning rate 0.001, weight decay 0.004, β1 0.9, β2 0.999, ε 1e-7): before each Adam step the
/// weights shrink by w −= lr·weight_decay·w, decoupled from the gradient; the Adam step is Keras's (see <see cref="Adam"/>),
/// the core's <see cref="Backprop.Optim.AdamW"/> in <see cref="Backprop.Optim.AdamStyle.Caffe"/> form.
/// </summary>
public sealed class AdamW(double learningRate = 0.001, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999,
    double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double WeightDecay { get; } = weightDecay;
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public override string Name => "adamw";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new Backprop.Optim.AdamW(parameters, (float)LearningRate, (float)Beta1, (float)Beta2, (float)Epsilon, (float)WeightDecay,
            style: Backprop.Optim.AdamStyle.Caffe);

    public override string ToString() => Invariant($"AdamW(learning_rate={LearningRate}, weight_decay={WeightDecay})");
}
