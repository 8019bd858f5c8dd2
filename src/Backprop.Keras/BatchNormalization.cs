using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>BatchNormalization</c> over the last (channel or feature) axis: y = γ·(x − mean)/√(var + ε) + β.
/// In training the batch's statistics normalize and the moving ones follow Keras's rule
/// moving = momentum·moving + (1 − momentum)·batch, which is the core's rule with momentum 1 − <see cref="Momentum"/>
/// (the core, as PyTorch, moves the variance toward the unbiased batch variance; Keras uses the biased one,
/// a factor n/(n−1) apart). Parameters: γ and β (trainable), moving mean and variance (non-trainable), 4·channels in all.
/// </summary>
public sealed class BatchNormalization : Layer
{
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, KerasShape? inputShape = null, string? name = null)
        : base(name, inputShape)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentException($"BatchNormalization: momentum {momentum} must be in [0, 1].");
        if (!(epsilon > 0)) throw new ArgumentException($"BatchNormalization: epsilon {epsilon} must be positive.");
        Momentum = momentum;
        Epsilon = epsilon;
    }

    public double Momentum { get; }
    public double Epsilon { get; }

    /// <summary>The core batch normalization holding γ (weight), β (bias) and the moving statistics (running_mean, running_var).</summary>
    public BatchNorm2d Norm => (BatchNorm2d)(Module ?? throw NotBuilt());

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 1 && input.Rank != 3) throw ShapeError(input, "(None, features) or (None, height, width, channels)");
        Module = new BatchNorm2d(input[-1], (float)Epsilon, (float)(1 - Momentum));
        return input;
    }

    /// <summary>At least gamma and beta (the moving statistics may be stored too).</summary>
    internal override long StoredWeightCount(KerasShape input) => input.Rank is 1 or 3 ? 2L * input[-1] : 0;

    internal override Tensor Forward(Tensor x, bool training)
    {
        var bn = Norm;
        return Functional.BatchNorm(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training, bn.Momentum, bn.Eps);
    }

    /// <summary>
    /// <c>Relu(Forward(x, training))</c> as one op (<see cref="Functional.BatchNormRelu"/>): what <see cref="Sequential"/>
    /// runs for this layer and an <c>Activation("relu")</c> after it.
    /// </summary>
    internal Tensor NormalizeRelu(Tensor x, bool training)
    {
        var bn = Norm;
        return Functional.BatchNormRelu(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training, bn.Momentum, bn.Eps);
    }

    /// <summary>
    /// <c>next</c>'s convolution of <see cref="NormalizeRelu"/>'s result as one op (<see cref="Functional.BatchNormReluConv2d"/>),
    /// the ReLU's output not kept for backward: what <see cref="Sequential"/> runs while training for this layer, an
    /// <c>Activation("relu")</c> and a <see cref="Conv2D"/> without activation that pads evenly.
    /// </summary>
    internal Tensor NormalizeReluConv(Conv2D next, Tensor x, bool training)
    {
        var bn = Norm;
        var conv = next.Conv;
        return Functional.BatchNormReluConv2d(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training, bn.Momentum, bn.Eps,
            conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups);
    }

    /// <summary>[gamma, beta, moving_mean, moving_variance], each (channels).</summary>
    public override IReadOnlyList<Tensor> GetWeights()
    {
        var bn = Norm;
        return [bn.Weight!.Detach().Clone(), bn.Bias!.Detach().Clone(), bn.RunningMean.Clone(), bn.RunningVar.Clone()];
    }

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var bn = Norm;
        CheckWeightCount(weights, 4);
        for (int i = 0; i < 4; i++) CheckWeightShape(weights[i], i, bn.NumFeatures);
        Tensor[] targets = [bn.Weight!, bn.Bias!, bn.RunningMean, bn.RunningVar];
        for (int i = 0; i < 4; i++) weights[i].AsSpan().CopyTo(targets[i].AsSpan());
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
    }
}
