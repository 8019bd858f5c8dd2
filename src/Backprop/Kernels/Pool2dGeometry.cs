namespace Backprop.Kernels;

/// <summary>
/// The shapes of 2-D pooling. x: (N, C, H, W), y: (N, C, OH, OW). Output window (oh, ow) covers input
/// rows [oh*strideH - padH, oh*strideH - padH + KH) and likewise columns. The output size is given
/// explicitly; <see cref="OutputSize"/> computes it with floor (PyTorch, Keras) or ceil (Caffe) rounding.
/// </summary>
public readonly record struct Pool2dGeometry(int Batch, int Channels, int InHeight, int InWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadHeight, int PadWidth, int OutHeight, int OutWidth)
{
    /// <summary>
    /// floor: (in + 2*pad - kernel) / stride + 1 rounded down; ceil: rounded up, then, if the last window
    /// would start past the input and its left padding ((out-1)*stride >= in + pad), one less.
    /// </summary>
    public static int OutputSize(int inSize, int kernel, int stride, int pad, bool ceilMode)
    {
        if (stride < 1) throw new ArgumentException($"Pooling: stride must be positive, got {stride}.", nameof(stride));
        long span = (long)inSize + 2L * pad - kernel;
        long q = ceilMode ? -FloorDiv(-span, stride) : FloorDiv(span, stride);
        long output = q + 1;
        if (ceilMode && output >= 1 && (output - 1) * stride >= (long)inSize + pad) output--;
        return (int)Math.Clamp(output, int.MinValue, int.MaxValue);
    }

    /// <summary>A geometry whose output size comes from <see cref="OutputSize"/>.</summary>
    public static Pool2dGeometry Create(int batch, int channels, int inHeight, int inWidth, int kernelHeight, int kernelWidth,
        int strideHeight, int strideWidth, int padHeight, int padWidth, bool ceilMode) =>
        new(batch, channels, inHeight, inWidth, kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight, padWidth,
            OutputSize(inHeight, kernelHeight, strideHeight, padHeight, ceilMode),
            OutputSize(inWidth, kernelWidth, strideWidth, padWidth, ceilMode));

    /// <summary>Elements of x: N*C*H*W.</summary>
    public long InputLength => (long)Batch * Channels * InHeight * InWidth;

    /// <summary>Elements of y: N*C*OH*OW.</summary>
    public long OutputLength => (long)Batch * Channels * OutHeight * OutWidth;

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when the geometry is not usable.</summary>
    public void Validate()
    {
        if (Batch < 1 || Channels < 1 || InHeight < 1 || InWidth < 1)
            throw new ArgumentException($"Pooling: batch, channels and input size must be positive, got x: ({Batch}, {Channels}, {InHeight}, {InWidth}).");
        if (KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"Pooling: kernel size must be positive, got {KernelHeight}x{KernelWidth}.");
        if (StrideHeight < 1 || StrideWidth < 1)
            throw new ArgumentException($"Pooling: stride must be positive, got {StrideHeight}x{StrideWidth}.");
        if (PadHeight < 0 || PadWidth < 0)
            throw new ArgumentException($"Pooling: padding must not be negative, got {PadHeight}x{PadWidth}.");
        // Caffe's limit (PyTorch's is half the kernel): every window still holds a real input.
        if (PadHeight >= KernelHeight || PadWidth >= KernelWidth)
            throw new ArgumentException($"Pooling: padding {PadHeight}x{PadWidth} must be smaller than the kernel {KernelHeight}x{KernelWidth}.");
        if (OutHeight < 1 || OutWidth < 1)
            throw new ArgumentException($"Pooling: output size would be {OutHeight}x{OutWidth}: input {InHeight}x{InWidth} with padding {PadHeight}x{PadWidth} is smaller than the kernel {KernelHeight}x{KernelWidth}.");
        if ((long)(OutHeight - 1) * StrideHeight - PadHeight >= InHeight || (long)(OutWidth - 1) * StrideWidth - PadWidth >= InWidth)
            throw new ArgumentException($"Pooling: output size {OutHeight}x{OutWidth} is too large: its last window would start past the {InHeight}x{InWidth} input.");
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
