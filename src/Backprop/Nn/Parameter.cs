namespace Backprop.Nn;

/// <summary>
/// A tensor a module learns: a leaf that requires a gradient unless frozen. Carries Caffe's per-parameter
/// learning-rate and weight-decay multipliers (<c>lr_mult</c>, <c>decay_mult</c>), which optimizers honour.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/>'s storage (no copy) as a trainable leaf.</summary>
    public Parameter(Tensor data, bool requiresGrad = true) : base(data) => RequiresGrad = requiresGrad;

    /// <summary>Multiplies the optimizer's learning rate for this parameter (Caffe's <c>lr_mult</c>).</summary>
    public float LearningRateMultiplier { get; set; } = 1f;

    /// <summary>Multiplies the optimizer's weight decay for this parameter (Caffe's <c>decay_mult</c>).</summary>
    public float DecayMultiplier { get; set; } = 1f;
}
