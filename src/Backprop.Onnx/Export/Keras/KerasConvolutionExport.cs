using Backprop.Keras;
using Backprop.Nn;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Keras's convolution layers as ONNX Conv and ConvTranspose nodes. The weights are the core modules' own tensors
/// ((out, in/groups, kh, kw) for Conv, (in, out, kh, kw) for ConvTranspose: ONNX's layouts), so nothing is copied.
/// Same padding is written as explicit pads: the core convolution's symmetric (top, left) plus the odd extra row and
/// column Keras puts at the bottom and right.
/// </summary>
internal static class KerasConvolutionExport
{
    public static OnnxValue Conv2D(KerasNodeWriter writer, Conv2D layer, OnnxValue x) =>
        Conv(writer, "", "", layer.Conv, Extra(layer.Padding, layer.InputShape, layer.KernelSize, layer.Strides), x, KerasLayerExport.CoreShape(layer.OutputShape));

    public static OnnxValue Depthwise(KerasNodeWriter writer, DepthwiseConv2D layer, OnnxValue x) =>
        Conv(writer, "", "", layer.Conv, Extra(layer.Padding, layer.InputShape, layer.KernelSize, layer.Strides), x, KerasLayerExport.CoreShape(layer.OutputShape));

    public static OnnxValue Separable(KerasNodeWriter writer, SeparableConv2D layer, OnnxValue x)
    {
        var (depthwise, pointwise) = (layer.Conv.Depthwise, layer.Conv.Pointwise);
        var output = KerasLayerExport.CoreShape(layer.OutputShape);
        var middle = Conv(writer, "depthwise", "depthwise.", depthwise, Extra(layer.Padding, layer.InputShape, layer.KernelSize, layer.Strides), x,
            [depthwise.OutChannels, output[1], output[2]]);
        return Conv(writer, "", "pointwise.", pointwise, (0, 0), middle, output);
    }

    // TensorFlow's window of the full transposed convolution: pads crop Start rows/columns before and the rest after;
    // where Keras's output runs past the full result, output_padding adds those rows (zeros plus the bias).
    public static OnnxValue Transposed(KerasNodeWriter writer, Conv2DTranspose layer, OnnxValue x)
    {
        var conv = layer.Conv;
        int kh = conv.Weight.Shape[2], kw = conv.Weight.Shape[3];
        int fullH = (x.SampleShape[1] - 1) * conv.Stride.Height + kh, fullW = (x.SampleShape[2] - 1) * conv.Stride.Width + kw;
        var (oh, ow) = conv.OutputSize;
        var (top, left) = conv.Start;
        int bottom = Math.Max(fullH - top - oh, 0), right = Math.Max(fullW - left - ow, 0);
        int extraH = Math.Max(top + oh - fullH, 0), extraW = Math.Max(left + ow - fullW, 0);
        var inputs = new List<string> { x.Name, writer.Initializer("weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(writer.Initializer("bias", conv.Bias));
        var attributes = new List<Proto.AttributeProto>
        {
            Ints("kernel_shape", kh, kw), Ints("strides", conv.Stride.Height, conv.Stride.Width), Ints("pads", top, left, bottom, right),
        };
        if (extraH + extraW > 0) attributes.Add(Ints("output_padding", extraH, extraW));
        return writer.Node("ConvTranspose", "", inputs, [conv.Weight.Shape[1], oh, ow], [.. attributes]);
    }

    private static (int Bottom, int Right) Extra(string padding, KerasShape input, Size2D kernel, Size2D strides)
    {
        var (_, top, bottom) = Backprop.Keras.Padding.Compute(padding, input[0], kernel.Height, strides.Height);
        var (_, left, right) = Backprop.Keras.Padding.Compute(padding, input[1], kernel.Width, strides.Width);
        return (bottom - top, right - left);
    }

    private static OnnxValue Conv(KerasNodeWriter writer, string nodeName, string weightPrefix, Conv2d conv, (int Bottom, int Right) extra,
        OnnxValue x, int[] outputShape)
    {
        var inputs = new List<string> { x.Name, writer.Initializer(weightPrefix + "weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(writer.Initializer(weightPrefix + "bias", conv.Bias));
        var (top, left) = conv.Padding;
        return writer.Node("Conv", nodeName, inputs, outputShape,
            Ints("kernel_shape", conv.KernelSize.Height, conv.KernelSize.Width),
            Ints("strides", conv.Stride.Height, conv.Stride.Width),
            Ints("pads", top, left, top + extra.Bottom, left + extra.Right),
            Ints("dilations", conv.Dilation.Height, conv.Dilation.Width),
            Int("group", conv.Groups));
    }
}
