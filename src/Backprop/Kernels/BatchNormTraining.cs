namespace Backprop.Kernels;

public static unsafe partial class BatchNorm
{
    /// <summary>
    /// Training forward: the batch statistics (<see cref="Statistics"/>), invStd (<see cref="InverseStd"/>) and y
    /// (<see cref="Normalize"/>), one after another, each kernel splitting the (image, channel) planes in image order, so
    /// each thread reads the images the convolution before it wrote on the same core and writes the ones the convolution
    /// after it reads there (those split images too).
    /// </summary>
    /// <remarks>
    /// A channel schedule (each thread a run of channels, statistics then normalization per group of channels while they
    /// were in L2) ran here until the sixteenth performance pass: on this AMD EPYC (1 MiB L2, planes 64 KB apart sharing
    /// its sets) it took 1.25-1.7x the time of these kernels on one thread or two, and on two threads it sent half of every
    /// activation between the cores: ResNet-20's training step 0.84-0.91x without it (docs/performance.md).
    /// </remarks>
    // x, y: (N, C, inner); mean, variance, invStd: (C) overwritten; weight, bias: (C) or empty
    public static void TrainingForward(ReadOnlySpan<float> x, int n, int c, int inner, float eps, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y, bool relu = false)
        => TrainingForward(x, default, n, c, inner, eps, weight, bias, mean, variance, invStd, y, relu, addRelu: false);

    /// <summary>
    /// <see cref="TrainingForward(ReadOnlySpan{float}, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{double}, Span{double}, Span{double}, Span{float}, bool)"/>
    /// with <see cref="NormalizeAddRelu"/>'s output: y = max(normalized + residual, 0).
    /// </summary>
    public static void TrainingForwardAddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, int c, int inner, float eps,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y)
    {
        if (residual.Length != x.Length)
            throw new ArgumentException($"BatchNorm.TrainingForwardAddRelu: residual of {residual.Length} elements does not match x of {x.Length}.");
        TrainingForward(x, residual, n, c, inner, eps, weight, bias, mean, variance, invStd, y, relu: false, addRelu: true);
    }

    private static void TrainingForward(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, int c, int inner, float eps,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y,
        bool relu, bool addRelu)
    {
        Check(x.Length, n, c, inner, mean.Length, variance.Length, "TrainingForward");
        CheckAffine(c, weight.Length, bias.Length, y.Length, x.Length, "TrainingForward");
        if (invStd.Length != c) throw new ArgumentException($"BatchNorm.TrainingForward: invStd of {invStd.Length} does not match {c} channels.");
        Statistics(x, n, c, inner, mean, variance);
        InverseStd(variance, eps, invStd);
        if (addRelu) NormalizeAddRelu(x, residual, n, c, inner, mean, invStd, weight, bias, y);
        else Normalize(x, n, c, inner, mean, invStd, weight, bias, y, relu);
    }
}
