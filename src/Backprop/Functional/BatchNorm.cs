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
        var stats = BatchNormStatistics(input, runningMean, runningVar, weight, bias, training, momentum, eps);
        var y = Tensor.Uninitialized(input.Shape);
        Kernels.BatchNorm.Normalize(input.Data, stats.N, stats.C, stats.Inner, stats.Mean, stats.InvStd, weight is null ? default : weight.Data,
            bias is null ? default : bias.Data, y.AsSpan(), relu);

        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tensor.Record(y, relu ? "BatchNormReluBackward" : "NativeBatchNormBackward",
            (dy, needs) => BatchNormGradients(input, dy, weight, bias, stats, training, needs, relu), inputs.ToArray());
    }

    // The batch (training) or running (evaluation) statistics that normalize input, after checking the arguments;
    // training also moves the running statistics.
    private static BatchNormStats BatchNormStatistics(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum, float eps)
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

        var mean = new double[c];
        var variance = new double[c];
        var invStd = new double[c];
        if (training)
        {
            Kernels.BatchNorm.Statistics(input.Data, n, c, inner, mean, variance);
            Kernels.BatchNorm.UpdateRunning(mean, variance, count, momentum, runningMean.AsSpan(), runningVar.AsSpan());
        }
        else
        {
            for (int ch = 0; ch < c; ch++) (mean[ch], variance[ch]) = (runningMean.Data[ch], runningVar.Data[ch]);
        }
        Kernels.BatchNorm.InverseStd(variance, eps, invStd);
        return new BatchNormStats(n, c, inner, mean, invStd);
    }

    // BatchNorm's gradients for (input, weight if any, bias if any) from dy; with relu, dy is first masked where the fused
    // forward's output was not positive. needs: which of those inputs want a gradient, in the same order.
    private static Tensor?[] BatchNormGradients(Tensor input, Tensor dy, Tensor? weight, Tensor? bias, BatchNormStats stats,
        bool training, bool[] needs, bool relu)
    {
        var (n, c, inner, mean, invStd) = stats;
        int inputCount = 1 + (weight is null ? 0 : 1) + (bias is null ? 0 : 1);
        var grads = new Tensor?[inputCount];
        bool needWeight = weight is not null && needs[1], needBias = bias is not null && needs[inputCount - 1];
        var sumDy = new double[c];
        var sumDyXhat = new double[c];
        // Evaluation's dx needs no sums: skip them when no parameter wants its gradient.
        if ((training || needWeight || needBias) && relu)
            Kernels.BatchNorm.BackwardSumsRelu(input.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                bias is null ? default : bias.Data, sumDy, sumDyXhat);
        else if (training || needWeight || needBias)
            Kernels.BatchNorm.BackwardSums(input.Data, dy.Data, n, c, inner, mean, invStd, sumDy, sumDyXhat);
        if (needs[0])
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Kernels.BatchNorm.BackwardInput(input.Data, dy.Data, n, c, inner, mean, invStd, weight is null ? default : weight.Data,
                sumDy, sumDyXhat, training, dx.AsSpan(), relu, bias is null ? default : bias.Data);
            grads[0] = dx;
        }
        if (needWeight) grads[1] = Tensor.FromArray(Array.ConvertAll(sumDyXhat, v => (float)v), c);
        if (needBias) grads[inputCount - 1] = Tensor.FromArray(Array.ConvertAll(sumDy, v => (float)v), c);
        return grads;
    }

    // Input viewed as (N, C, inner); the per-channel mean and 1/std that normalize it.
    private readonly record struct BatchNormStats(int N, int C, int Inner, double[] Mean, double[] InvStd);
}
