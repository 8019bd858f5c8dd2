namespace Backprop.Kernels;

/// <summary>
/// The shapes of a 2-D convolution. x: (N, C, H, W), weight: (K, C/groups, KH, KW), y: (N, K, OH, OW),
/// with OH = (H + 2*padH - dilationH*(KH-1) - 1) / strideH + 1 and likewise OW.
/// </summary>
public readonly record struct Conv2dGeometry(int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth, int DilationHeight, int DilationWidth, int Groups)
{
    /// <summary>OH = (H + 2*padH - dilationH*(KH-1) - 1) / strideH + 1.</summary>
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

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when the geometry is not usable.</summary>
    public void Validate()
    {
        if (Batch < 1 || InChannels < 1 || InHeight < 1 || InWidth < 1 || OutChannels < 1)
            throw new ArgumentException($"Conv2d: batch, channels and input size must be positive, got x: ({Batch}, {InChannels}, {InHeight}, {InWidth}) and {OutChannels} output channels.");
        if (KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"Conv2d: kernel size must be positive, got {KernelHeight}x{KernelWidth}.");
        if (StrideHeight < 1 || StrideWidth < 1)
            throw new ArgumentException($"Conv2d: stride must be positive, got {StrideHeight}x{StrideWidth}.");
        if (DilationHeight < 1 || DilationWidth < 1)
            throw new ArgumentException($"Conv2d: dilation must be positive, got {DilationHeight}x{DilationWidth}.");
        if (PadHeight < 0 || PadWidth < 0)
            throw new ArgumentException($"Conv2d: padding must not be negative, got {PadHeight}x{PadWidth}.");
        if (Groups < 1)
            throw new ArgumentException($"Conv2d: groups must be positive, got {Groups}.");
        if (InChannels % Groups != 0)
            throw new ArgumentException($"Conv2d: {InChannels} input channels are not divisible by {Groups} groups.");
        if (OutChannels % Groups != 0)
            throw new ArgumentException($"Conv2d: {OutChannels} output channels are not divisible by {Groups} groups.");
        long spanH = (long)InHeight + 2L * PadHeight - (long)DilationHeight * (KernelHeight - 1) - 1;
        long spanW = (long)InWidth + 2L * PadWidth - (long)DilationWidth * (KernelWidth - 1) - 1;
        if (spanH < 0 || spanW < 0)
            throw new ArgumentException(
                $"Conv2d: output size would be less than 1: input {InHeight}x{InWidth} with padding {PadHeight}x{PadWidth} is smaller than the dilated kernel " +
                $"{(long)DilationHeight * (KernelHeight - 1) + 1}x{(long)DilationWidth * (KernelWidth - 1) + 1}.");
    }
}
