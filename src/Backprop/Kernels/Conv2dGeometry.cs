namespace Backprop.Kernels;

/// <summary>
/// The shapes of a 2-D convolution. x: (N, C, H, W), weight: (K, C/groups, KH, KW), y: (N, K, OH, OW),
/// with OH = (H + 2*padH - dilationH*(KH-1) - 1) / strideH + 1 and likewise OW. The one place that
/// works out a convolution's output size and says what is wrong with a geometry: the kernels, the
/// functional API and the front-ends (Caffe's Convolution layer) all ask it.
/// </summary>
public readonly record struct Conv2dGeometry(int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth, int DilationHeight, int DilationWidth, int Groups)
{
    /// <summary>OH = (H + 2*padH - dilationH*(KH-1) - 1) / strideH + 1, in 32 bits: meaningful once <see cref="Problem"/> is null (hot loops read it).</summary>
    public int OutHeight => (InHeight + 2 * PadHeight - DilationHeight * (KernelHeight - 1) - 1) / StrideHeight + 1;

    /// <summary>OW = (W + 2*padW - dilationW*(KW-1) - 1) / strideW + 1.</summary>
    public int OutWidth => (InWidth + 2 * PadWidth - DilationWidth * (KernelWidth - 1) - 1) / StrideWidth + 1;

    /// <summary>Input channels per group (C / groups).</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels per group (K / groups).</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>Elements of x: N*C*H*W.</summary>
    public long InputLength => (long)Batch * InChannels * InHeight * InWidth;

    /// <summary>Elements of y: N*K*OH*OW.</summary>
    public long OutputLength => (long)Batch * OutChannels * OutHeight * OutWidth;

    /// <summary>Elements of weight: K*(C/groups)*KH*KW.</summary>
    public long WeightLength => (long)OutChannels * GroupInChannels * KernelHeight * KernelWidth;

    /// <summary>
    /// Output size along one axis, (input + 2*pad - dilation*(kernel-1) - 1) / stride + 1 rounded down, in 64 bits
    /// so no argument overflows it; less than 1 (possibly negative) when the dilated kernel does not fit the padded input.
    /// Stride must be positive.
    /// </summary>
    public static long OutputSize(int input, int kernel, int stride, int pad, int dilation)
    {
        long span = (long)input + 2L * pad - (long)dilation * (kernel - 1) - 1;
        // Floor division: a negative span (kernel larger than the padded input) must not round toward zero into one output.
        return span < 0 ? -1 : span / stride + 1;
    }

    /// <summary>
    /// What is wrong with this geometry, in the user's terms (sizes, kernel, stride, padding, dilation, groups), or
    /// null when it is usable. Front-ends put it in their own exception with their own context (a layer's name).
    /// </summary>
    public string? Problem()
    {
        if (Batch < 1 || InChannels < 1 || InHeight < 1 || InWidth < 1 || OutChannels < 1)
            return $"batch, channels and input size must be positive, got x: ({Batch}, {InChannels}, {InHeight}, {InWidth}) and {OutChannels} output channels.";
        if (KernelHeight < 1 || KernelWidth < 1)
            return $"kernel size must be positive, got {KernelHeight}x{KernelWidth}.";
        if (StrideHeight < 1 || StrideWidth < 1)
            return $"stride must be positive, got {StrideHeight}x{StrideWidth}.";
        if (DilationHeight < 1 || DilationWidth < 1)
            return $"dilation must be positive, got {DilationHeight}x{DilationWidth}.";
        if (PadHeight < 0 || PadWidth < 0)
            return $"padding must not be negative, got {PadHeight}x{PadWidth}.";
        if (Groups < 1)
            return $"groups must be positive, got {Groups}.";
        if (InChannels % Groups != 0)
            return $"{InChannels} input channels are not divisible by {Groups} groups.";
        if (OutChannels % Groups != 0)
            return $"{OutChannels} output channels are not divisible by {Groups} groups.";
        long oh = OutputSize(InHeight, KernelHeight, StrideHeight, PadHeight, DilationHeight);
        long ow = OutputSize(InWidth, KernelWidth, StrideWidth, PadWidth, DilationWidth);
        if (oh < 1 || ow < 1)
            return $"output size would be less than 1: input {InHeight}x{InWidth} with padding {PadHeight}x{PadWidth} is smaller than the " +
                $"kernel {KernelHeight}x{KernelWidth} dilated by {DilationHeight}x{DilationWidth} " +
                $"({(long)DilationHeight * (KernelHeight - 1) + 1}x{(long)DilationWidth * (KernelWidth - 1) + 1}).";
        if (oh > int.MaxValue || ow > int.MaxValue || (long)Batch * OutChannels > int.MaxValue / oh / ow)
            return $"output (N, K, OH, OW) = ({Batch}, {OutChannels}, {oh}, {ow}) would have more than {int.MaxValue} elements (padding {PadHeight}x{PadWidth}).";
        if (WeightLength > int.MaxValue)
            return $"weight (K, C/groups, KH, KW) = ({OutChannels}, {GroupInChannels}, {KernelHeight}, {KernelWidth}) would have more than {int.MaxValue} elements.";
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong (<see cref="Problem"/>) when the geometry is not usable.</summary>
    public void Validate()
    {
        if (Problem() is string problem) throw new ArgumentException($"Conv2d: {problem}");
    }
}
