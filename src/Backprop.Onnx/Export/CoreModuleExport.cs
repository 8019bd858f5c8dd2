using Backprop.Nn;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// ONNX nodes for the core modules (Backprop.Nn), in evaluation mode: BatchNorm2d uses its running statistics and
/// Dropout is dropped. Each module's nodes, output and initializers are named after its path (<c>features.0</c>,
/// <c>features.0.weight</c>). Shapes are followed through the net so that each node's attributes are checked here,
/// with the module named, rather than by the runtime that later loads the file.
/// </summary>
internal static class CoreModuleExport
{
    public static OnnxValue Export(OnnxExportContext context, OnnxValue x) => context.Module switch
    {
        IOnnxExportable custom => custom.ExportOnnx(context, x),
        Sequential => ExportSequential(context, x),
        Conv2d conv => ExportConv(context, conv, x),
        Linear linear => ExportLinear(context, linear, x),
        BatchNorm2d norm => ExportBatchNorm(context, norm, x),
        MaxPool2d pool => ExportPool(context, "MaxPool", pool.KernelSize, pool.Stride, pool.Padding, pool.CeilMode, null, x),
        AvgPool2d pool => ExportPool(context, "AveragePool", pool.KernelSize, pool.Stride, pool.Padding, pool.CeilMode, pool.CountIncludePad, x),
        AdaptiveAvgPool2d pool => ExportAdaptiveAvgPool(context, pool, x),
        Relu => context.Node("Relu", "", [x], x.SampleShape),
        LeakyRelu leaky => context.Node("LeakyRelu", "", [x], x.SampleShape, Float("alpha", leaky.NegativeSlope)),
        Sigmoid => context.Node("Sigmoid", "", [x], x.SampleShape),
        Tanh => context.Node("Tanh", "", [x], x.SampleShape),
        Softmax softmax => context.Node("Softmax", "", [x], x.SampleShape, Int("axis", Axis(context, softmax.Axis, x))),
        LogSoftmax logSoftmax => context.Node("LogSoftmax", "", [x], x.SampleShape, Int("axis", Axis(context, logSoftmax.Axis, x))),
        Dropout => x,   // identity in evaluation
        Flatten flatten => ExportFlatten(context, flatten, x),
        _ => throw context.Unsupported(context.Module.NamedChildren().Count > 0
            ? "its Forward is code the exporter cannot read; implement IOnnxExportable on it to write its nodes (exporting its children through the context)."
            : "there is no ONNX export for this module type; implement IOnnxExportable on it to write its nodes."),
    };

    private static OnnxValue ExportSequential(OnnxExportContext context, OnnxValue x)
    {
        foreach (var (_, child) in context.Module.NamedChildren()) x = context.Export(child, x);
        return x;
    }

    private static OnnxValue ExportConv(OnnxExportContext context, Conv2d conv, OnnxValue x)
    {
        RequireImage(context, x, conv.InChannels);
        long oh = Kernels.Conv2dGeometry.OutputSize(x.SampleShape[1], conv.KernelSize.Height, conv.Stride.Height, conv.Padding.Height, conv.Dilation.Height);
        long ow = Kernels.Conv2dGeometry.OutputSize(x.SampleShape[2], conv.KernelSize.Width, conv.Stride.Width, conv.Padding.Width, conv.Dilation.Width);
        if (oh < 1 || ow < 1)
            throw context.Unsupported($"its input {OnnxExportContext.Describe(x.SampleShape)} is smaller than its (dilated) kernel {conv.KernelSize}.");
        var inputs = new List<string> { x.Name, context.Initializer("weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(context.Initializer("bias", conv.Bias));
        return context.Node("Conv", "", inputs, [conv.OutChannels, (int)oh, (int)ow],
            Ints("kernel_shape", conv.KernelSize.Height, conv.KernelSize.Width),
            Ints("strides", conv.Stride.Height, conv.Stride.Width),
            Ints("pads", conv.Padding.Height, conv.Padding.Width, conv.Padding.Height, conv.Padding.Width),
            Ints("dilations", conv.Dilation.Height, conv.Dilation.Width),
            Int("group", conv.Groups));
    }

    // y = x·Wᵀ + b: Gemm (transB) for (N, in); over more dimensions MatMul by a transposed weight, then Add.
    private static OnnxValue ExportLinear(OnnxExportContext context, Linear linear, OnnxValue x)
    {
        if (x.SampleShape.Length == 0 || x.SampleShape[^1] != linear.InFeatures)
            throw context.Unsupported($"it expects {linear.InFeatures} input features in the last dimension but gets {OnnxExportContext.Describe(x.SampleShape)}.");
        int[] shape = [.. x.SampleShape[..^1], linear.OutFeatures];
        string weight = context.Initializer("weight", linear.Weight);
        string? bias = linear.Bias is null ? null : context.Initializer("bias", linear.Bias);
        if (x.SampleShape.Length == 1)
            return context.Node("Gemm", "", bias is null ? [x.Name, weight] : [x.Name, weight, bias], shape, Int("transB", 1));
        string transposed = context.Graph.AddNode("Transpose", weight + "_t", [weight], Ints("perm", 1, 0));
        var product = context.Node("MatMul", bias is null ? "" : "matmul", [x.Name, transposed], shape);
        return bias is null ? product : context.Node("Add", "", [product.Name, bias], shape);
    }

    private static OnnxValue ExportBatchNorm(OnnxExportContext context, BatchNorm2d norm, OnnxValue x)
    {
        RequireImage(context, x, norm.NumFeatures);
        string scale = context.Initializer("weight", norm.Weight ?? Tensor.Ones(norm.NumFeatures));
        string shift = context.Initializer("bias", norm.Bias ?? Tensor.Zeros(norm.NumFeatures));
        string mean = context.Initializer("running_mean", norm.RunningMean);
        string variance = context.Initializer("running_var", norm.RunningVar);
        return context.Node("BatchNormalization", "", [x.Name, scale, shift, mean, variance], x.SampleShape, Float("epsilon", norm.Eps));
    }

    private static OnnxValue ExportPool(OnnxExportContext context, string opType, int kernel, int stride, int padding, bool ceilMode,
        bool? countIncludePad, OnnxValue x)
    {
        RequireImage(context, x, null);
        var geometry = Kernels.Pool2dGeometry.Create(1, x.SampleShape[0], x.SampleShape[1], x.SampleShape[2], kernel, kernel, stride, stride,
            padding, padding, ceilMode);
        try
        {
            geometry.Validate();
        }
        catch (ArgumentException e)
        {
            throw context.Unsupported(e.Message);
        }
        var attributes = new List<Proto.AttributeProto>
        {
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding),
        };
        // Backprop's ceil rule is Caffe's and PyTorch's: round up, but no window may start in the right padding. ONNX's
        // shape rule for opsets 13-17 lacks that exception, so ceil_mode is written only where it adds an output; where
        // the exception applies, ceil's size is floor's (a window starting in the padding needs padding >= kernel,
        // which Validate refuses), and floor needs no attribute.
        int floorHeight = Kernels.Pool2dGeometry.OutputSize(x.SampleShape[1], kernel, stride, padding, false);
        int floorWidth = Kernels.Pool2dGeometry.OutputSize(x.SampleShape[2], kernel, stride, padding, false);
        if (ceilMode && (floorHeight != geometry.OutHeight || floorWidth != geometry.OutWidth)) attributes.Add(Int("ceil_mode", 1));
        if (countIncludePad == true) attributes.Add(Int("count_include_pad", 1));
        return context.Node(opType, "", [x], [x.SampleShape[0], geometry.OutHeight, geometry.OutWidth], [.. attributes]);
    }

    private static OnnxValue ExportAdaptiveAvgPool(OnnxExportContext context, AdaptiveAvgPool2d pool, OnnxValue x)
    {
        RequireImage(context, x, null);
        var (oh, ow) = pool.OutputSize;
        int h = x.SampleShape[1], w = x.SampleShape[2];
        if (oh == 1 && ow == 1) return context.Node("GlobalAveragePool", "", [x], [x.SampleShape[0], 1, 1]);
        // Where the output divides the input every bin is one fixed window: an AveragePool.
        if (oh < 1 || ow < 1 || h % oh != 0 || w % ow != 0)
            throw context.Unsupported($"output {oh}x{ow} does not divide its input {h}x{w}, so its bins are not one fixed window (ONNX has no adaptive pooling).");
        return context.Node("AveragePool", "", [x], [x.SampleShape[0], oh, ow],
            Ints("kernel_shape", h / oh, w / ow), Ints("strides", h / oh, w / ow));
    }

    // The module's own Forward on a tiny batch of 2 gives its output shape, so the exporter needs no copy of its axis rules.
    private static OnnxValue ExportFlatten(OnnxExportContext context, Flatten flatten, OnnxValue x)
    {
        int[] outShape = flatten.Forward(Tensor.Zeros([2, .. x.SampleShape])).Shape.ToArray();
        if (outShape.Length == 0 || outShape[0] != 2)
            throw context.Unsupported("it flattens the batch dimension, which would make the exported batch size fixed.");
        int[] sample = outShape[1..];
        if (sample.Length == 1)
            return context.Node("Flatten", "", [x], sample, Int("axis", 1));
        string shape = context.Graph.AddInt64Initializer(context.Path + ".shape", [0, .. sample.Select(d => (long)d)]);
        return context.Node("Reshape", "", [x.Name, shape], sample);
    }

    private static int Axis(OnnxExportContext context, int axis, OnnxValue x)
    {
        if (axis < -x.Rank || axis >= x.Rank) throw context.Unsupported($"axis {axis} is outside its rank-{x.Rank} input {OnnxExportContext.Describe(x.SampleShape)}.");
        return axis;
    }

    private static void RequireImage(OnnxExportContext context, OnnxValue x, int? channels)
    {
        if (x.SampleShape.Length != 3)
            throw context.Unsupported($"it needs (N, C, H, W) input but gets {OnnxExportContext.Describe(x.SampleShape)}.");
        if (channels is int c && x.SampleShape[0] != c)
            throw context.Unsupported($"it expects {c} input channels but gets {OnnxExportContext.Describe(x.SampleShape)}.");
    }
}
