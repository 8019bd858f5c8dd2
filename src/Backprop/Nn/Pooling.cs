namespace Backprop.Nn;

/// <summary>
/// Max pooling over (N, C, H, W). Output size (H + 2·padding − kernel) / stride + 1, rounded down
/// (PyTorch, Keras) or up with <c>ceilMode</c> (Caffe). Stride defaults to the kernel size.
/// </summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride ?? kernelSize;
    public int Padding { get; } = padding;
    public bool CeilMode { get; } = ceilMode;

    public override Tensor Forward(Tensor input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding, CeilMode);

    protected override string ExtraDescription() => PoolDescription(KernelSize, Stride, Padding, CeilMode, true);

    internal static string PoolDescription(int kernel, int stride, int padding, bool ceilMode, bool countIncludePad)
    {
        var parts = new List<string> { "kernel=" + kernel };
        if (stride != kernel) parts.Add("stride=" + stride);
        if (padding != 0) parts.Add("padding=" + padding);
        if (ceilMode) parts.Add("ceilMode=true");
        if (!countIncludePad) parts.Add("countIncludePad=false");
        return string.Join(", ", parts);
    }
}

/// <summary>
/// Average pooling over (N, C, H, W); sizes as <see cref="MaxPool2d"/>. With <c>countIncludePad</c>
/// (default) windows divide by their size within the padded input, else by their real elements.
/// </summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride ?? kernelSize;
    public int Padding { get; } = padding;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;

    public override Tensor Forward(Tensor input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    protected override string ExtraDescription() => MaxPool2d.PoolDescription(KernelSize, Stride, Padding, CeilMode, CountIncludePad);
}

/// <summary>Average pooling to a fixed output size; (1, 1) is global average pooling.</summary>
public sealed class AdaptiveAvgPool2d(int outputHeight, int outputWidth) : Module
{
    public AdaptiveAvgPool2d(int outputSize) : this(outputSize, outputSize) { }

    public (int Height, int Width) OutputSize { get; } = (outputHeight, outputWidth);

    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool2d(input, OutputSize);

    protected override string ExtraDescription() => "output=" + Conv2d.Pair(OutputSize);
}
