using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// The core module behind <see cref="Conv2DTranspose"/>: weight (in, filters, kh, kw) and bias (filters), and a
/// forward pass over (N, in, H, W) that runs the full transposed convolution
/// (<see cref="Functional.ConvTranspose2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>)
/// and keeps the window TensorFlow keeps: <see cref="OutputSize"/> rows/columns from <see cref="Start"/>, zeros
/// past the end of the full result.
/// </summary>
public sealed class TransposedConvolution : Module
{
    internal TransposedConvolution(int inChannels, int filters, (int Height, int Width) kernelSize, (int Height, int Width) stride, bool bias,
        (int Height, int Width) start, (int Height, int Width) outputSize)
    {
        InChannels = inChannels;
        Stride = stride;
        Start = start;
        OutputSize = outputSize;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(inChannels, filters, kernelSize.Height, kernelSize.Width)));
        Bias = bias ? RegisterParameter("bias", new Parameter(Tensor.Zeros(filters))) : null;
    }

    public int InChannels { get; }
    public (int Height, int Width) Stride { get; }

    /// <summary>The first row and column of the full transposed convolution that the output keeps.</summary>
    public (int Height, int Width) Start { get; }

    /// <summary>The output's height and width.</summary>
    public (int Height, int Width) OutputSize { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int fullH = (input.Shape[2] - 1) * Stride.Height + Weight.Shape[2], fullW = (input.Shape[3] - 1) * Stride.Width + Weight.Shape[3];
        int extraH = Math.Max(Start.Height + OutputSize.Height - fullH, 0), extraW = Math.Max(Start.Width + OutputSize.Width - fullW, 0);
        bool extended = extraH + extraW > 0;
        // Bias inside the core op unless zero rows are appended: those get the bias too (added after them).
        var y = Functional.ConvTranspose2d(input, Weight, extended ? null : Bias, Stride, (0, 0), (1, 1));
        y = Padding.Pad(y, 0, extraH, 0, extraW);
        if (Start != (0, 0) || y.Shape[2] != OutputSize.Height || y.Shape[3] != OutputSize.Width)
            y = y.Crop([0, 0, Start.Height, Start.Width], [y.Shape[0], y.Shape[1], OutputSize.Height, OutputSize.Width]);
        return extended && Bias is not null ? y + Bias.Reshape(1, Bias.Shape[0], 1, 1) : y;
    }

    protected override string ExtraDescription() =>
        $"{InChannels}, {Weight.Shape[1]}, kernel=({Weight.Shape[2]}, {Weight.Shape[3]}), stride=({Stride.Height}, {Stride.Width}), output=({OutputSize.Height}, {OutputSize.Width})";
}
