namespace Backprop.Kernels;

/// <summary>
/// The shapes of a 3-D convolution. x: (N, C, D, H, W), weight: (K, C/groups, KD, KH, KW), y: (N, K, OD, OH, OW), each output
/// size as <see cref="Conv2dGeometry.OutputSize"/> gives it for its axis. Axis order everywhere: depth, height, width.
/// </summary>
public readonly record struct Conv3dGeometry(int Batch, int InChannels, (int D, int H, int W) Input, int OutChannels,
    (int D, int H, int W) Kernel, (int D, int H, int W) Stride, (int D, int H, int W) Pad, (int D, int H, int W) Dilation, int Groups)
{
    /// <summary>(OD, OH, OW); meaningful once <see cref="Problem"/> is null.</summary>
    public (int D, int H, int W) Output => (
        (int)Conv2dGeometry.OutputSize(Input.D, Kernel.D, Stride.D, Pad.D, Dilation.D),
        (int)Conv2dGeometry.OutputSize(Input.H, Kernel.H, Stride.H, Pad.H, Dilation.H),
        (int)Conv2dGeometry.OutputSize(Input.W, Kernel.W, Stride.W, Pad.W, Dilation.W));

    /// <summary>Input channels per group.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels per group.</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>D·H·W of one input plane.</summary>
    public int InputVolume => Input.D * Input.H * Input.W;

    /// <summary>OD·OH·OW of one output plane.</summary>
    public int OutputVolume { get { var o = Output; return o.D * o.H * o.W; } }

    /// <summary>KD·KH·KW.</summary>
    public int KernelVolume => Kernel.D * Kernel.H * Kernel.W;

    /// <summary>What is wrong with this geometry, in the user's terms, or null when it is usable.</summary>
    public string? Problem()
    {
        if (Batch < 1 || InChannels < 1 || Input.D < 1 || Input.H < 1 || Input.W < 1 || OutChannels < 1)
            return $"batch, channels and input size must be positive, got x: ({Batch}, {InChannels}, {Input.D}, {Input.H}, {Input.W}) and {OutChannels} output channels.";
        if (Kernel.D < 1 || Kernel.H < 1 || Kernel.W < 1) return $"kernel size must be positive, got {Kernel}.";
        if (Stride.D < 1 || Stride.H < 1 || Stride.W < 1) return $"stride must be positive, got {Stride}.";
        if (Dilation.D < 1 || Dilation.H < 1 || Dilation.W < 1) return $"dilation must be positive, got {Dilation}.";
        if (Pad.D < 0 || Pad.H < 0 || Pad.W < 0) return $"padding must not be negative, got {Pad}.";
        if (Groups < 1) return $"groups must be positive, got {Groups}.";
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
            return $"{InChannels} input and {OutChannels} output channels must both be divisible by {Groups} groups.";
        long od = Conv2dGeometry.OutputSize(Input.D, Kernel.D, Stride.D, Pad.D, Dilation.D);
        long oh = Conv2dGeometry.OutputSize(Input.H, Kernel.H, Stride.H, Pad.H, Dilation.H);
        long ow = Conv2dGeometry.OutputSize(Input.W, Kernel.W, Stride.W, Pad.W, Dilation.W);
        if (od < 1 || oh < 1 || ow < 1)
            return $"output size would be less than 1: input {Input} with padding {Pad} is smaller than the kernel {Kernel} dilated by {Dilation}.";
        if ((long)Batch * OutChannels * od * oh * ow > int.MaxValue || (long)Batch * InChannels * InputVolume > int.MaxValue)
            return $"input or output would have more than {int.MaxValue} elements (output ({Batch}, {OutChannels}, {od}, {oh}, {ow})).";
        if ((long)GroupInChannels * KernelVolume * od * oh * ow > int.MaxValue || (long)OutChannels * GroupInChannels * KernelVolume > int.MaxValue)
            return $"the column matrix or the weight would have more than {int.MaxValue} elements.";
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when the geometry is not usable.</summary>
    public void Validate()
    {
        if (Problem() is string problem) throw new ArgumentException($"Conv3d: {problem}");
    }
}
