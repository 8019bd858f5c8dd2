using Backprop.Keras;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// The ONNX nodes of one Keras layer on channels-first values (the layout Backprop runs Keras layers in), then its
/// activation as a separate node. Each node mirrors the layer's own forward in evaluation mode.
/// </summary>
internal static class KerasLayerExport
{
    public static OnnxValue Export(OnnxGraphBuilder graph, Layer layer, IReadOnlyList<OnnxValue> inputs)
    {
        var x = inputs[0];
        var writer = new KerasNodeWriter(graph, layer);
        OnnxValue y = layer switch
        {
            InputLayer or Dropout or Activation => x,   // Dropout passes values through in Predict; Activation is only its activation
            Conv2D conv => KerasConvolutionExport.Conv2D(writer, conv, x),
            DepthwiseConv2D conv => KerasConvolutionExport.Depthwise(writer, conv, x),
            SeparableConv2D conv => KerasConvolutionExport.Separable(writer, conv, x),
            Conv2DTranspose conv => KerasConvolutionExport.Transposed(writer, conv, x),
            Dense dense => Gemm(writer, dense, x),
            BatchNormalization norm => BatchNorm(writer, norm, x),
            MaxPooling2D pool => Pool(writer, "MaxPool", pool, x),
            AveragePooling2D pool => Pool(writer, "AveragePool", pool, x),
            GlobalAveragePooling2D => writer.Node("Flatten", "", [writer.Node("GlobalAveragePool", "pool", [x.Name], [x.SampleShape[0], 1, 1]).Name],
                [x.SampleShape[0]], Int("axis", 1)),
            Backprop.Keras.Flatten => FlattenChannelsLast(writer, x),
            Rescaling rescaling => Rescale(writer, rescaling, x),
            ZeroPadding2D padding => ZeroPad(writer, padding, x),
            UpSampling2D upsampling => Upsample(writer, upsampling, x),
            Add => Sum(writer, inputs),
            Concatenate concatenate => Concat(writer, concatenate, inputs),
            _ => throw writer.Unsupported("there is no ONNX export for this Keras layer class."),
        };
        var result = ApplyActivation(writer, layer.ActivationName, y);
        int[] expected = CoreShape(layer.OutputShape);
        if (!result.SampleShape.AsSpan().SequenceEqual(expected))
            throw writer.Unsupported($"its exported output is {OnnxExportContext.Describe(result.SampleShape)} but the layer gives {OnnxExportContext.Describe(expected)} (channels-first).");
        return result;
    }

    /// <summary>A Keras sample shape in the core's channels-first order: (h, w, c) becomes (c, h, w).</summary>
    public static int[] CoreShape(KerasShape shape) => shape.Rank == 3 ? [shape[2], shape[0], shape[1]] : shape.ToArray();

    private static OnnxValue ApplyActivation(KerasNodeWriter writer, string activation, OnnxValue x) => activation switch
    {
        "linear" => x,
        "relu" => writer.Node("Relu", "relu", [x.Name], x.SampleShape),
        "sigmoid" => writer.Node("Sigmoid", "sigmoid", [x.Name], x.SampleShape),
        "tanh" => writer.Node("Tanh", "tanh", [x.Name], x.SampleShape),
        // Backprop applies softmax over axis 1: the channels of (N, C, H, W), the features of (N, F).
        "softmax" => writer.Node("Softmax", "softmax", [x.Name], x.SampleShape, Int("axis", 1)),
        "leaky_relu" => writer.Node("LeakyRelu", "leaky_relu", [x.Name], x.SampleShape, Float("alpha", Activations.LeakyReluSlope)),
        _ => throw writer.Unsupported($"its activation '{activation}' has no ONNX export."),
    };

    private static OnnxValue Gemm(KerasNodeWriter writer, Dense dense, OnnxValue x)
    {
        var linear = dense.Linear;
        var inputs = new List<string> { x.Name, writer.Initializer("weight", linear.Weight) };
        if (linear.Bias is not null) inputs.Add(writer.Initializer("bias", linear.Bias));
        return writer.Node("Gemm", "", inputs, [dense.Units], Int("transB", 1));
    }

    private static OnnxValue BatchNorm(KerasNodeWriter writer, BatchNormalization layer, OnnxValue x)
    {
        var norm = layer.Norm;
        string scale = writer.Initializer("weight", norm.Weight ?? Tensor.Ones(norm.NumFeatures));
        string shift = writer.Initializer("bias", norm.Bias ?? Tensor.Zeros(norm.NumFeatures));
        string mean = writer.Initializer("running_mean", norm.RunningMean);
        string variance = writer.Initializer("running_var", norm.RunningVar);
        return writer.Node("BatchNormalization", "", [x.Name, scale, shift, mean, variance], x.SampleShape, Float("epsilon", norm.Eps));
    }

    // Same padding becomes explicit pads (TensorFlow's: the odd one at the bottom and right). MaxPool's pads never win
    // a window (Keras pads with −∞); AveragePool leaves them out of the count (count_include_pad 0), as Keras does.
    private static OnnxValue Pool(KerasNodeWriter writer, string opType, Pooling2D pool, OnnxValue x)
    {
        var input = pool.InputShape;
        var (_, top, bottom) = Backprop.Keras.Padding.Compute(pool.Padding, input[0], pool.PoolSize.Height, pool.Strides.Height);
        var (_, left, right) = Backprop.Keras.Padding.Compute(pool.Padding, input[1], pool.PoolSize.Width, pool.Strides.Width);
        return writer.Node(opType, "", [x.Name], CoreShape(pool.OutputShape),
            Ints("kernel_shape", pool.PoolSize.Height, pool.PoolSize.Width),
            Ints("strides", pool.Strides.Height, pool.Strides.Width),
            Ints("pads", top, left, bottom, right));
    }

    // Keras flattens in channels-last order (h, w, c): back to (N, H, W, C) first, as the layer does.
    private static OnnxValue FlattenChannelsLast(KerasNodeWriter writer, OnnxValue x)
    {
        int length = x.SampleShape.Aggregate(1, (a, b) => a * b);
        if (x.SampleShape.Length == 3)
            x = writer.Node("Transpose", "to_channels_last", [x.Name], [x.SampleShape[1], x.SampleShape[2], x.SampleShape[0]], Ints("perm", 0, 2, 3, 1));
        return writer.Node("Flatten", "", [x.Name], [length], Int("axis", 1));
    }

    private static OnnxValue Rescale(KerasNodeWriter writer, Rescaling rescaling, OnnxValue x)
    {
        if (rescaling.Scale != 1.0)
            x = writer.Node("Mul", rescaling.Offset == 0.0 ? "" : "mul", [x.Name, writer.Initializer("scale", Tensor.Scalar((float)rescaling.Scale))], x.SampleShape);
        if (rescaling.Offset != 0.0)
            x = writer.Node("Add", "", [x.Name, writer.Initializer("offset", Tensor.Scalar((float)rescaling.Offset))], x.SampleShape);
        return rescaling.Scale == 1.0 && rescaling.Offset == 0.0 ? writer.Node("Identity", "", [x.Name], x.SampleShape) : x;
    }

    private static OnnxValue ZeroPad(KerasNodeWriter writer, ZeroPadding2D padding, OnnxValue x)
    {
        string pads = writer.Int64Initializer("pads", [0, 0, padding.Top, padding.Left, 0, 0, padding.Bottom, padding.Right]);
        return writer.Node("Pad", "", [x.Name, pads], CoreShape(padding.OutputShape));
    }

    // Nearest repeats each pixel (asymmetric coordinates, floor); bilinear reads (o + ½)/scale − ½ clamped to the
    // edges, which is ONNX's half_pixel linear resize.
    private static OnnxValue Upsample(KerasNodeWriter writer, UpSampling2D upsampling, OnnxValue x)
    {
        string scales = writer.Initializer("scales", Tensor.FromArray([1f, 1f, upsampling.Size.Height, upsampling.Size.Width], 4));
        var attributes = upsampling.Interpolation == "nearest"
            ? new[] { String("mode", "nearest"), String("coordinate_transformation_mode", "asymmetric"), String("nearest_mode", "floor") }
            : [String("mode", "linear"), String("coordinate_transformation_mode", "half_pixel")];
        return writer.Node("Resize", "", [x.Name, "", scales], CoreShape(upsampling.OutputShape), attributes);
    }

    // Left to right, as the layer sums.
    private static OnnxValue Sum(KerasNodeWriter writer, IReadOnlyList<OnnxValue> inputs)
    {
        var sum = inputs[0];
        for (int i = 1; i < inputs.Count; i++)
            sum = writer.Node("Add", i == inputs.Count - 1 ? "" : $"add{i}", [sum.Name, inputs[i].Name], sum.SampleShape);
        return sum;
    }

    private static OnnxValue Concat(KerasNodeWriter writer, Concatenate concatenate, IReadOnlyList<OnnxValue> inputs)
    {
        int rank = concatenate.InputShapes[0].Rank;
        int axis = concatenate.Axis < 0 ? concatenate.Axis + rank + 1 : concatenate.Axis;
        // Keras's h, w, c axes 1, 2, 3 are the core's 2, 3, 1 for images.
        int coreAxis = rank == 3 ? (axis == 3 ? 1 : axis + 1) : axis;
        return writer.Node("Concat", "", [.. inputs.Select(i => i.Name)], CoreShape(concatenate.OutputShape), Int("axis", coreAxis));
    }
}
