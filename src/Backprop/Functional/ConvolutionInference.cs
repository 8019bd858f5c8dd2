using Backprop.Kernels;

namespace Backprop;

/// <summary>
/// One convolution layer as inference runs it (evaluation mode, under no-grad): its weights, bias and window, the cache
/// that keeps its weights' transform between calls, and, where a BatchNorm in evaluation mode followed it, that
/// BatchNorm's per-channel scale (<see cref="BatchNormFold"/>), with <see cref="Bias"/> then the folded bias.
/// </summary>
internal sealed record InferenceConvolution(Tensor Weight, Tensor? Bias, double[]? Scale, (int Height, int Width) Stride,
    (int Height, int Width) Padding, (int Height, int Width) Dilation, int Groups, WinogradWeightCache Cache)
{
    /// <summary>The geometry on an input of this shape, or null where the shapes do not fit (the full op then reports it).</summary>
    public Conv2dGeometry? GeometryFor(Shape input)
    {
        if (input.Rank != 4 || Weight.Rank != 4 || input[1] != Weight.Shape[1] * Groups) return null;
        var g = new Conv2dGeometry(input[0], input[1], input[2], input[3], Weight.Shape[0], Weight.Shape[2], Weight.Shape[3],
            Stride.Height, Stride.Width, Padding.Height, Padding.Width, Dilation.Height, Dilation.Width, Groups);
        return g.Problem() is null ? g : null;
    }
}

public static partial class Functional
{
    /// <summary>
    /// The layer's convolution of input (+ its bias), then with <paramref name="relu"/> the ReLU, with a
    /// <paramref name="residual"/> Relu(convolution + residual), through the layer's kept weights, a folded BatchNorm's
    /// scale inside them (the kept transform or packing is of the folded weights; elsewhere they are folded for this call).
    /// Inference only: it records no graph, so it runs only under no-grad.
    /// </summary>
    internal static Tensor Conv2dInference(Tensor input, InferenceConvolution layer, bool relu, Tensor? residual = null)
    {
        if (Autograd.GradMode.IsEnabled) throw new InvalidOperationException("Conv2dInference records no graph; run it under no-grad.");
        if (layer.Scale is null)
            return Conv2d(input, layer.Weight, layer.Bias, layer.Stride, layer.Padding, layer.Dilation, layer.Groups, relu, layer.Cache, residual);
        var g = ConvolutionGeometry(input, layer.Weight, layer.Bias, layer.Stride, layer.Padding, layer.Dilation, layer.Groups, relu, residual);
        if (layer.Scale.Length != g.OutChannels)
            throw new ArgumentException($"Conv2d: a folded BatchNorm of {layer.Scale.Length} channels does not match {g.OutChannels} output channels.");
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth));
        var added = residual is null ? default : residual.Data;
        var bias = layer.Bias is null ? default : layer.Bias.Data;
        if (!layer.Cache.TryForward(g, input.Data, layer.Weight.Data, bias, y.AsSpan(), relu, added, scale: layer.Scale))
        {
            var folded = Tensor.Uninitialized(layer.Weight.Shape);
            BatchNormFold.Weights(layer.Weight.Data, layer.Scale, folded.AsSpan());
            Convolution.Forward(g, input.Data, folded.Data, bias, y.AsSpan(), relu && residual is null);
            if (residual is not null) Activations.AddReluForward(y.Data, added, y.AsSpan());
            folded.Release();
        }
        return y;
    }

    /// <summary>
    /// Two layers in a row with a ReLU between (a ResNet block, a VGG stage): h = Relu(first(input)), then
    /// <c>second</c> on h as <see cref="Conv2dInference"/> runs it, with h never written as (N, C, H, W) planes: it stays
    /// in the 16-channel pixels the Winograd transforms write and read (<see cref="WinogradIo"/>), which saves the two
    /// layout passes between the layers. The values are the two calls', bit for bit. Null (nothing run) where the two
    /// layers do not both run their kept Winograd weights on these shapes; the caller then makes the two calls.
    /// </summary>
    internal static Tensor? Conv2dPairInference(Tensor input, InferenceConvolution first, InferenceConvolution second, bool relu, Tensor? residual)
    {
        if (Autograd.GradMode.IsEnabled || first.GeometryFor(input.Shape) is not { } g1) return null;
        var hShape = new Shape(g1.Batch, g1.OutChannels, g1.OutHeight, g1.OutWidth);
        if (second.GeometryFor(hShape) is not { } g2 || !WinogradWeightCache.Applies(g1) || !WinogradWeightCache.Applies(g2)) return null;
        if (first.Scale is { } s1 && s1.Length != g1.OutChannels || second.Scale is { } s2 && s2.Length != g2.OutChannels) return null;
        if (first.Bias is { } b1 && b1.Length != g1.OutChannels || second.Bias is { } b2 && b2.Length != g2.OutChannels) return null;
        var shape = new Shape(g2.Batch, g2.OutChannels, g2.OutHeight, g2.OutWidth);
        if (residual is not null && residual.Shape != shape) return null;
        var h = Tensor.Uninitialized(hShape);   // 16-channel pixels
        var y = Tensor.Uninitialized(shape);
        bool ran = first.Cache.TryForward(g1, input.Data, first.Weight.Data, first.Bias is null ? default : first.Bias.Data, h.AsSpan(),
                relu: true, io: WinogradIo.BlockedOutput, scale: first.Scale)
            && second.Cache.TryForward(g2, h.Data, second.Weight.Data, second.Bias is null ? default : second.Bias.Data, y.AsSpan(),
                relu || residual is not null, residual is null ? default : residual.Data, WinogradIo.BlockedInput, second.Scale);
        h.Release();
        if (ran) return y;
        y.Release();
        return null;
    }
}
