namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// <c>AddRelu(BatchNorm(input, ...), residual)</c>, the end of a ResNet block, as one op with the same bits forward and
    /// backward. BatchNorm's output is never stored: the composed ops keep it alive until the step ends although no
    /// backward reads it (AddRelu's backward masks by its own output). One activation less per residual block.
    /// </summary>
    public static Tensor BatchNormAddRelu(Tensor input, Tensor residual, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(residual);
        ArgumentNullException.ThrowIfNull(input);
        if (residual.Shape != input.Shape)   // checked before the running statistics move
            throw new ArgumentException($"BatchNormAddRelu: residual of shape {residual.Shape} does not match input {input.Shape}.");
        var y = Tensor.Uninitialized(input.Shape);
        var stats = BatchNormStatistics(input, runningMean, runningVar, weight, bias, training, momentum, eps, y, relu: false, residual);

        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        int normInputs = inputs.Count;
        inputs.Add(residual);
        return Tensor.Record(y, "BatchNormAddReluBackward", (dy, needs) =>
        {
            // AddRelu's backward (dy where y > 0, to both addends), then BatchNorm's on that gradient.
            var masked = Tensor.Uninitialized(input.Shape);
            var grads = new Tensor?[normInputs + 1];
            if (needs.AsSpan(0, normInputs).Contains(true))
                BatchNormGradients(input, dy, weight, bias, stats, training, needs[..normInputs], relu: false, y, masked).CopyTo(grads, 0);
            else Kernels.BatchNorm.MaskByOutput(y.Data, dy.Data, masked.AsSpan());
            grads[normInputs] = masked;
            return grads;
        }, inputs.ToArray());
    }

    // BatchNormAddRelu's gradients in training when the input wants one: one kernel masks dy (the residual's gradient),
    // forms the sums and dx.
    private static Tensor?[] BatchNormAddReluGradients(Tensor input, Tensor y, Tensor dy, Tensor? weight, Tensor? bias, BatchNormStats stats,
        bool[] needs, Tensor masked)
    {
        var (n, c, inner, mean, invStd) = stats;
        int inputCount = 1 + (weight is null ? 0 : 1) + (bias is null ? 0 : 1);
        var grads = new Tensor?[inputCount];
        double[] sumDy = System.Buffers.ArrayPool<double>.Shared.Rent(c), sumDyXhat = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        try
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Kernels.BatchNorm.TrainingBackwardAddRelu(input.Data, y.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                sumDy.AsSpan(0, c), sumDyXhat.AsSpan(0, c), masked.AsSpan(), dx.AsSpan());
            grads[0] = dx;
            if (weight is not null && needs[1]) grads[1] = ChannelGradient(sumDyXhat.AsSpan(0, c));
            if (bias is not null && needs[inputCount - 1]) grads[inputCount - 1] = ChannelGradient(sumDy.AsSpan(0, c));
            return grads;
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(sumDy);
            System.Buffers.ArrayPool<double>.Shared.Return(sumDyXhat);
        }
    }
}
