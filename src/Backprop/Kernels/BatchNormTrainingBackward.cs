namespace Backprop.Kernels;

public static unsafe partial class BatchNorm
{
    /// <summary>
    /// Training backward: BackwardSums (or <see cref="BackwardSumsRelu"/> with <paramref name="relu"/>) then
    /// <see cref="BackwardInput"/>, each splitting the planes in image order, as <see cref="TrainingForward(ReadOnlySpan{float}, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{double}, Span{double}, Span{double}, Span{float}, bool)"/>
    /// does (the convolutions' backward passes split images too).
    /// </summary>
    // x, dy, dx: (N, C, inner); mean, invStd: (C); sumDy, sumDyXhat: (C) overwritten; weight, bias: (C) or empty
    public static void TrainingBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<double> sumDy, Span<double> sumDyXhat, Span<float> dx, bool relu = false)
    {
        CheckBackward(x.Length, dy.Length, n, c, inner, mean.Length, invStd.Length, sumDy.Length, sumDyXhat.Length, weight.Length, bias.Length, dx.Length);
        if (relu) BackwardSumsRelu(x, dy, n, c, inner, mean, invStd, weight, bias, sumDy, sumDyXhat);
        else BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
        BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, true, dx, relu, bias);
    }

    /// <summary>
    /// The backward of <see cref="NormalizeAddRelu"/> in training: masked = dy where y &gt; 0
    /// (<see cref="Activations.ReluBackward"/>, the residual's gradient), then <see cref="TrainingBackward"/> on masked.
    /// </summary>
    // x, y, dy, masked, dx: (N, C, inner), y the forward's output; the rest as in TrainingBackward
    public static void TrainingBackwardAddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        Span<double> sumDy, Span<double> sumDyXhat, Span<float> masked, Span<float> dx)
    {
        CheckBackward(x.Length, dy.Length, n, c, inner, mean.Length, invStd.Length, sumDy.Length, sumDyXhat.Length, weight.Length, 0, dx.Length);
        if (y.Length != x.Length || masked.Length != x.Length)
            throw new ArgumentException($"BatchNorm.TrainingBackwardAddRelu: y of {y.Length} or masked of {masked.Length} elements does not match x of {x.Length}.");
        MaskByOutput(y, dy, masked);
        TrainingBackward(x, masked, n, c, inner, mean, invStd, weight, default, sumDy, sumDyXhat, dx);
    }

    /// <summary>masked = dy where y &gt; 0: <see cref="Activations.ReluBackward"/>, which splits long buffers over <see cref="KernelThreads"/>.</summary>
    // y, dy, masked: (length)
    public static void MaskByOutput(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> masked)
    {
        if (dy.Length != y.Length || masked.Length != y.Length)
            throw new ArgumentException($"BatchNorm.MaskByOutput: dy of {dy.Length} or masked of {masked.Length} elements does not match y of {y.Length}.");
        Activations.ReluBackward(y, dy, masked);   // elementwise, split over the kernel threads when long
    }

    private static void CheckBackward(int length, int dyLength, int n, int c, int inner, int meanLength, int invStdLength,
        int sumDyLength, int sumDyXhatLength, int weightLength, int biasLength, int dxLength)
    {
        Check(length, n, c, inner, meanLength, invStdLength, "TrainingBackward");
        CheckAffine(c, weightLength, biasLength, dxLength, length, "TrainingBackward");
        if (dyLength != length || sumDyLength != c || sumDyXhatLength != c)
            throw new ArgumentException($"BatchNorm.TrainingBackward: dy of {dyLength} or sums of {sumDyLength}, {sumDyXhatLength} do not match x of (N, C, inner) = ({n}, {c}, {inner}).");
    }
}
