namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Batch normalization over (N, C, ...) per channel: y = (x − mean) / √(var + eps) · weight + bias.
    /// In training the batch's mean and biased variance normalize, and the running statistics move
    /// by <paramref name="momentum"/> toward the batch mean and unbiased variance (as PyTorch);
    /// in evaluation the running statistics normalize.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: false);

    /// <summary>
    /// <c>Relu(BatchNorm(...))</c> as one op, with the same bits: one pass over memory each way instead of two, and one
    /// tensor kept for backward instead of two (BatchNorm's output is never stored; backward recomputes its sign from
    /// the saved input). The usual conv, BatchNorm, ReLU stack keeps a third less activation memory.
    /// </summary>
    public static Tensor BatchNormRelu(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f) =>
        BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, relu: true);

    private static Tensor BatchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum, float eps, bool relu)
    {
        var y = Tensor.Uninitialized(input.Shape);
        var stats = BatchNormStatistics(input, runningMean, runningVar, weight, bias, training, momentum, eps, y, relu, null);

        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tensor.Record(y, relu ? "BatchNormReluBackward" : "NativeBatchNormBackward",
            (dy, needs) => BatchNormGradients(input, dy, weight, bias, stats, training, needs, relu), inputs.ToArray());
    }

    // The batch (training) or running (evaluation) statistics that normalize input, after checking the arguments, and y:
    // the normalized input (then ReLU with relu; plus residual, then ReLU, with a residual). Training also moves the
    // running statistics, and normalizes in the same kernel as it takes the statistics (x read from memory once).
    private static BatchNormStats BatchNormStatistics(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum, float eps, Tensor y, bool relu, Tensor? residual)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2) throw new ArgumentException($"BatchNorm expects input of shape (N, C, ...), got {input.Shape}.");
        int n = input.Shape[0], c = input.Shape[1], inner = input.Length / Math.Max(n * c, 1);
        foreach (var (name, t) in new[] { ("running mean", runningMean), ("running var", runningVar), ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.Shape[0] != c))
                throw new ArgumentException($"BatchNorm: {name} of shape {t.Shape} does not match {c} channels of input {input.Shape}.");
        int count = n * inner;
        if (training && count <= 1)
            throw new ArgumentException($"BatchNorm in training needs more than one value per channel, got input {input.Shape}.");

        var mean = new double[c];   // mean and invStd stay with the backward closure; variance is scratch, rented
        var invStd = new double[c];
        double[] rented = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        try
        {
            var variance = rented.AsSpan(0, c);
            ReadOnlySpan<float> w = weight is null ? default : weight.Data, b = bias is null ? default : bias.Data;
            if (training)
            {
                if (residual is null) Kernels.BatchNorm.TrainingForward(input.Data, n, c, inner, eps, w, b, mean, variance, invStd, y.AsSpan(), relu);
                else Kernels.BatchNorm.TrainingForwardAddRelu(input.Data, residual.Data, n, c, inner, eps, w, b, mean, variance, invStd, y.AsSpan());
                Kernels.BatchNorm.UpdateRunning(mean, variance, count, momentum, runningMean.AsSpan(), runningVar.AsSpan());
                return new BatchNormStats(n, c, inner, mean, invStd);
            }
            for (int ch = 0; ch < c; ch++) (mean[ch], variance[ch]) = (runningMean.Data[ch], runningVar.Data[ch]);
            Kernels.BatchNorm.InverseStd(variance, eps, invStd);
            if (residual is null) Kernels.BatchNorm.Normalize(input.Data, n, c, inner, mean, invStd, w, b, y.AsSpan(), relu);
            else Kernels.BatchNorm.NormalizeAddRelu(input.Data, residual.Data, n, c, inner, mean, invStd, w, b, y.AsSpan());
            return new BatchNormStats(n, c, inner, mean, invStd);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(rented);
        }
    }

    // BatchNorm's gradients for (input, weight if any, bias if any) from dy; with relu, dy is first masked where the fused
    // forward's output was not positive. needs: which of those inputs want a gradient, in the same order. With
    // addReluOutput (BatchNormAddRelu's y), dy is first masked where y was not positive, into `masked`. dxInto: where the
    // input's gradient goes (dy itself may be given: the kernels read each element of dy before writing its dx), else new.
    private static Tensor?[] BatchNormGradients(Tensor input, Tensor dy, Tensor? weight, Tensor? bias, BatchNormStats stats,
        bool training, bool[] needs, bool relu, Tensor? addReluOutput = null, Tensor? masked = null, Tensor? dxInto = null)
    {
        var (n, c, inner, mean, invStd) = stats;
        if (addReluOutput is not null && training && needs[0])
            return BatchNormAddReluGradients(input, addReluOutput, dy, weight, bias, stats, needs, masked!);
        if (addReluOutput is not null)
        {
            Kernels.BatchNorm.MaskByOutput(addReluOutput.Data, dy.Data, masked!.AsSpan());
            dy = masked;
        }
        int inputCount = 1 + (weight is null ? 0 : 1) + (bias is null ? 0 : 1);
        var grads = new Tensor?[inputCount];
        bool needWeight = weight is not null && needs[1], needBias = bias is not null && needs[inputCount - 1];
        double[] sumDyRented = System.Buffers.ArrayPool<double>.Shared.Rent(c), sumDyXhatRented = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        try
        {
            var sumDy = sumDyRented.AsSpan(0, c);
            var sumDyXhat = sumDyXhatRented.AsSpan(0, c);
            if (training && needs[0])
            {
                var dx = dxInto ?? Tensor.Uninitialized(input.Shape);
                Kernels.BatchNorm.TrainingBackward(input.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                    bias is null ? default : bias.Data, sumDy, sumDyXhat, dx.AsSpan(), relu);
                grads[0] = dx;
            }
            // Evaluation's dx needs no sums: skip them when no parameter wants its gradient.
            else if ((training || needWeight || needBias) && relu)
                Kernels.BatchNorm.BackwardSumsRelu(input.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                    bias is null ? default : bias.Data, sumDy, sumDyXhat);
            else if (training || needWeight || needBias)
                Kernels.BatchNorm.BackwardSums(input.Data, dy.Data, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            if (needs[0] && !training)
            {
                var dx = dxInto ?? Tensor.Uninitialized(input.Shape);
                Kernels.BatchNorm.BackwardInput(input.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                    sumDy, sumDyXhat, training, dx.AsSpan(), relu, bias is null ? default : bias.Data);
                grads[0] = dx;
            }
            if (needWeight) grads[1] = ChannelGradient(sumDyXhat);
            if (needBias) grads[inputCount - 1] = ChannelGradient(sumDy);
            return grads;
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(sumDyRented);
            System.Buffers.ArrayPool<double>.Shared.Return(sumDyXhatRented);
        }
    }

    // A weight's or bias's gradient (C) from its double sums, as floats: an op result (from the memory pool in a scope),
    // so a training step leaves no garbage here.
    private static Tensor ChannelGradient(ReadOnlySpan<double> sums)
    {
        var gradient = Tensor.Uninitialized(new Shape(sums.Length));
        var values = gradient.AsSpan();
        for (int ch = 0; ch < sums.Length; ch++) values[ch] = (float)sums[ch];
        return gradient;
    }

    // Input viewed as (N, C, inner); the per-channel mean and 1/std that normalize it.
    private readonly record struct BatchNormStats(int N, int C, int Inner, double[] Mean, double[] InvStd);
}
