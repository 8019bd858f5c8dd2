using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Convolution (Conv), Deconvolution (ConvTranspose) over 1, 2 or 3 spatial axes, and InnerProduct (Gemm, or MatMul + Add
/// when it keeps more than the batch axis). Caffe's weight layouts are ONNX's: (K, C/group, kernel...) for Conv and
/// (C, K/group, kernel...) for ConvTranspose, so the blobs are written as they are, named <c>layer.weight</c> and <c>layer.bias</c>.
/// </summary>
internal static class CaffeConvolutionExport
{
    public static OnnxValue Convolution(CaffeLayerContext c) => Convolve(c, transposed: false);

    public static OnnxValue Deconvolution(CaffeLayerContext c) => Convolve(c, transposed: true);

    private static OnnxValue Convolve(CaffeLayerContext c, bool transposed)
    {
        var p = c.Layer.Definition.ConvolutionParam;
        var x = c.X;
        int spatial = x.SampleShape.Length - 1;
        if (p is null || p.Axis != 1 || spatial < 1)
            throw c.Unsupported($"it needs a bottom (N, C, spatial...) convolved over axis 1, got {CaffeLayerContext.Describe(x)}.");
        var spec = ConvolutionSpec.Read(p, spatial, message => c.Unsupported(message));
        var weight = c.Layer.Blobs[0];
        int k = (int)p.NumOutput, groups = (int)p.Group;
        var shape = new int[spatial + 1];
        shape[0] = k;
        for (int i = 0; i < spatial; i++)
        {
            int input = x.SampleShape[i + 1];
            long size = transposed
                ? Functional.TransposedOutputSize(input, spec.Kernel[i], spec.Stride[i], spec.Pad[i], spec.Dilation[i])
                : Kernels.Conv2dGeometry.OutputSize(input, spec.Kernel[i], spec.Stride[i], spec.Pad[i], spec.Dilation[i]);
            if (size < 1 || size > int.MaxValue)
                throw c.Unsupported($"its bottom {CaffeLayerContext.Describe(x)} with {spec} gives an output size of {size} on axis {i + 2}.");
            shape[i + 1] = (int)size;
        }
        int weightChannels = transposed ? weight.Shape[0] : weight.Shape[1] * groups;
        if (weightChannels != x.SampleShape[0])
            throw c.Unsupported($"its weights {weight.Shape} (group {groups}) expect {weightChannels} input channels but the bottom is {CaffeLayerContext.Describe(x)}.");
        var inputs = new List<string> { x.Name, c.Initializer("weight", weight) };
        if (p.BiasTerm) inputs.Add(c.Initializer("bias", c.Layer.Blobs[1]));
        return c.Node(transposed ? "ConvTranspose" : "Conv", "", inputs, shape,
            Ints("kernel_shape", Longs(spec.Kernel)), Ints("strides", Longs(spec.Stride)),
            Ints("pads", [.. Longs(spec.Pad), .. Longs(spec.Pad)]), Ints("dilations", Longs(spec.Dilation)), Int("group", groups));
    }

    // Caffe flattens axes [axis, end) into K inputs: y = x·Wᵀ + b, or x·W with transpose: true (W stored as (K, num_output)).
    public static OnnxValue InnerProduct(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.InnerProductParam ?? new InnerProductParameter();
        var x = c.X;
        int axis = c.Axis(p.Axis, x, "axis");
        long inputs = 1;
        foreach (int d in x.SampleShape[(axis - 1)..]) inputs *= d;
        int n = (int)p.NumOutput;
        var weight = c.Layer.Blobs[0];
        if (weight.Length != inputs * n)
            throw c.Unsupported($"its weights {weight.Shape} do not fit the bottom {CaffeLayerContext.Describe(x)} flattened from axis {axis} to {inputs} inputs.");
        string w = c.Initializer("weight", weight);
        string? bias = p.BiasTerm ? c.Initializer("bias", c.Layer.Blobs[1]) : null;
        int[] shape = [.. x.SampleShape[..(axis - 1)], n];
        if (axis == 1)
        {
            var flat = x.SampleShape.Length == 1 ? x : c.Unary("Flatten", x, "flatten", Int("axis", 1));
            string[] gemmInputs = bias is null ? [flat.Name, w] : [flat.Name, w, bias];
            return c.Node("Gemm", "", gemmInputs, shape, Int("transB", p.Transpose ? 0 : 1));
        }
        // More than the batch axis is kept: (N, d1.., K)·W then the bias, broadcast over the last axis.
        string reshapeTo = c.Int64s("shape", [0, .. x.SampleShape[..(axis - 1)].Select(d => (long)d), inputs]);
        var rows = c.Node("Reshape", "rows", [x.Name, reshapeTo], [.. x.SampleShape[..(axis - 1)], (int)inputs]);
        string matrix = p.Transpose ? w : c.Graph.AddNode("Transpose", w + "_t", [w], Ints("perm", 1, 0));
        var product = c.Node("MatMul", bias is null ? "" : "matmul", [rows.Name, matrix], shape);
        return bias is null ? product : c.Node("Add", "", [product.Name, bias], shape);
    }

    private static long[] Longs(int[] values) => values.Select(v => (long)v).ToArray();
}
