namespace Backprop.Optim;

/// <summary>
/// The kind of weight decay an optimizer applies (Caffe's <c>regularization_type</c>). With effective decay
/// <c>wd = WeightDecay * DecayMultiplier</c>, the gradient the update rule sees is <c>g + wd * w</c> for
/// <see cref="L2"/> and <c>g + wd * sign(w)</c> for <see cref="L1"/> (sign(0) = 0, as Caffe's <c>caffe_cpu_sign</c>).
/// </summary>
public enum Regularization
{
    /// <summary>Adds <c>wd * w</c> to the gradient (Caffe "L2", PyTorch <c>weight_decay</c>).</summary>
    L2,

    /// <summary>Adds <c>wd * sign(w)</c> to the gradient (Caffe "L1").</summary>
    L1,
}
