using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>What <see cref="DepthwiseConv2D"/> and <see cref="SeparableConv2D"/> share: argument checks and the depthwise convolution.</summary>
internal static class SeparableParts
{
    public static (Size2D Strides, string Padding) Validate(string where, Size2D kernelSize, Size2D? strides, string padding, int depthMultiplier,
        KerasShape? inputShape)
    {
        if (kernelSize.Height < 1 || kernelSize.Width < 1) throw new ArgumentException($"{where}: the kernel size must be positive.");
        var s = strides ?? 1;
        if (s.Height < 1 || s.Width < 1) throw new ArgumentException($"{where}: strides {s} must be positive.");
        if (depthMultiplier < 1) throw new ArgumentException($"{where}: depthMultiplier must be positive, got {depthMultiplier}.");
        if (inputShape is not null && inputShape.Rank != 3)
            throw new ArgumentException($"{where}: inputShape must be (height, width, channels), got {inputShape}.");
        return (s, Keras.Padding.Validate(padding, where));
    }

    /// <summary>
    /// The grouped convolution (groups = channels) with Keras's output size, and the odd extra bottom/right padding
    /// that must be added before it. Its kernel is drawn with Keras's fans for (kh, kw, in, depthMultiplier).
    /// </summary>
    public static (Conv2d Conv, int Height, int Width, (int Bottom, int Right) Extra) Depthwise(Layer layer, KerasShape input, Size2D kernel,
        Size2D strides, string padding, int depthMultiplier, bool bias, string initializer, Generator generator)
    {
        var (oh, top, bottom) = Keras.Padding.Compute(padding, input[0], kernel.Height, strides.Height);
        var (ow, left, right) = Keras.Padding.Compute(padding, input[1], kernel.Width, strides.Width);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) expects an input of at least {kernel.Height}x{kernel.Width} pixels " +
                $"for its kernel with valid padding, but its input is {input.WithBatch()}.");
        int c = input[2];
        long outChannels = (long)c * depthMultiplier;
        if (outChannels > int.MaxValue) throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}): {c} channels × depth multiplier {depthMultiplier} is too many.");
        var conv = new Conv2d(c, (int)outChannels, kernel.Tuple, strides.Tuple, (top, left), (1, 1), c, bias, new Generator(0));
        // Keras's fans for (kh, kw, in, m) are kh·kw·in and kh·kw·m: the core's for a (m, in, kh, kw) tensor.
        var drawn = Tensor.Zeros(depthMultiplier, c, kernel.Height, kernel.Width);
        Initializers.Fill(initializer, drawn, generator);
        drawn.Permute(1, 0, 2, 3).AsSpan().CopyTo(conv.Weight.AsSpan());
        return (conv, oh, ow, (bottom - top, right - left));
    }

    /// <summary>Core (in·m, 1, kh, kw) to Keras's (kh, kw, in, m).</summary>
    public static Tensor DepthwiseToKeras(Conv2d conv, int depthMultiplier) =>
        conv.Weight.Detach().Reshape(conv.Groups, depthMultiplier, conv.KernelSize.Height, conv.KernelSize.Width).Permute(2, 3, 0, 1);

    /// <summary>Keras's (kh, kw, in, m) into the core's (in·m, 1, kh, kw).</summary>
    public static void DepthwiseFromKeras(Tensor kernel, Conv2d conv) => kernel.Detach().Permute(2, 3, 0, 1).AsSpan().CopyTo(conv.Weight.AsSpan());
}
