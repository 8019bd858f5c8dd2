namespace Backprop.Nn;

/// <summary>
/// Batch normalization per channel of (N, C, H, W): batch statistics in training (updating the running
/// mean and variance by <c>momentum</c>), running statistics in evaluation. Learnable scale (weight, ones)
/// and shift (bias, zeros) when <c>affine</c>.
/// </summary>
public sealed class BatchNorm2d : Module
{
    public BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true)
    {
        if (numFeatures < 1) throw new ArgumentException($"BatchNorm2d needs a positive channel count, got {numFeatures}.");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = affine ? RegisterParameter("weight", new Parameter(Tensor.Ones(numFeatures))) : null;
        Bias = affine ? RegisterParameter("bias", new Parameter(Tensor.Zeros(numFeatures))) : null;
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
    }

    public int NumFeatures { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"BatchNorm2d expects input of shape (N, C, H, W), got {input.Shape}.");
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps);
    }

    /// <summary>
    /// <c>Functional.Relu(Forward(input))</c> as one op (<see cref="Functional.BatchNormRelu"/>): the same values, one
    /// tensor less kept for backward. <see cref="Sequential"/> uses it for a BatchNorm2d followed by a <see cref="Relu"/>.
    /// </summary>
    public Tensor ForwardRelu(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"BatchNorm2d expects input of shape (N, C, H, W), got {input.Shape}.");
        return Functional.BatchNormRelu(input, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps);
    }

    /// <summary>
    /// <c>next.Forward(ForwardRelu(input))</c>: a BatchNorm, ReLU, convolution run, as a ResNet block or a VGG stage has it.
    /// While autograd records, one op (<see cref="Functional.BatchNormReluConv2d"/>): the same values and gradients, and the
    /// activation between the two layers is not kept for backward (backward recomputes it). Otherwise the two calls, the
    /// activation between them given back to the pool once read. <see cref="Sequential"/> uses it for a BatchNorm2d, a
    /// <see cref="Relu"/> and a <see cref="Conv2d"/> in a row.
    /// </summary>
    public Tensor ForwardReluThen(Conv2d next, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (input.Rank != 4) throw new ArgumentException($"BatchNorm2d expects input of shape (N, C, H, W), got {input.Shape}.");
        if (Autograd.GradMode.IsEnabled)
            return Functional.BatchNormReluConv2d(input, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps,
                next.Weight, next.Bias, next.Stride, next.Padding, next.Dilation, next.Groups);
        var h = ForwardRelu(input);
        var result = next.Forward(h);
        h.Release();
        return result;
    }

    /// <summary>
    /// <c>Functional.AddRelu(Forward(input), residual)</c> as one op (<see cref="Functional.BatchNormAddRelu"/>): the same
    /// values, one tensor less kept per residual block.
    /// </summary>
    public Tensor ForwardAddRelu(Tensor input, Tensor residual)
    {
        if (input.Rank != 4) throw new ArgumentException($"BatchNorm2d expects input of shape (N, C, H, W), got {input.Shape}.");
        return Functional.BatchNormAddRelu(input, residual, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps);
    }

    protected override string ExtraDescription() => NumFeatures.ToString() + (Weight is null ? ", affine=false" : "");
}
