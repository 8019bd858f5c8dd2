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
        var stats = BatchNormStatistics(input, runningMean, runningVar, weight, bias, training, momentum, eps);
        var y = Tensor.Uninitialized(input.Shape);
        Kernels.BatchNorm.NormalizeAddRelu(input.Data, residual.Data, stats.N, stats.C, stats.Inner, stats.Mean, stats.InvStd,
            weight is null ? default : weight.Data, bias is null ? default : bias.Data, y.AsSpan());

        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        int normInputs = inputs.Count;
        inputs.Add(residual);
        return Tensor.Record(y, "BatchNormAddReluBackward", (dy, needs) =>
        {
            // AddRelu's backward (dy where y > 0, to both addends), then BatchNorm's on that gradient.
            var masked = Tensor.Uninitialized(input.Shape);
            Kernels.Activations.ReluBackward(y.Data, dy.Data, masked.AsSpan());
            var grads = new Tensor?[normInputs + 1];
            if (needs.AsSpan(0, normInputs).Contains(true))
                BatchNormGradients(input, masked, weight, bias, stats, training, needs[..normInputs], relu: false).CopyTo(grads, 0);
            grads[normInputs] = masked;
            return grads;
        }, inputs.ToArray());
    }
}
