using Backprop.Kernels;

namespace Backprop.Onnx.Import;

/// <summary>
/// One imported Conv node: <see cref="Kernel"/> runs it as the file has it (core ops, so autograd gives its backward),
/// and <see cref="Infer"/> runs it as an inference plan fuses it (<see cref="OnnxInferencePlan"/>): with the
/// BatchNormalization after it folded into its weights, the Add of a residual and the ReLU after it, in one pass. Both keep
/// the node's transformed (or batch-1 packed) weights between calls in evaluation mode, as <see cref="Nn.Conv2d"/> does;
/// they are compared with the weights on every call, so fine-tuning them, or the BatchNorm's statistics, is always seen.
/// </summary>
internal sealed class OnnxConvolution
{
    private readonly (int H, int W) kernel, stride, dilation;
    private readonly int[] pads;
    private readonly string autoPad, label;
    private readonly int groups;
    private readonly WinogradWeightCache kept = new();

    public OnnxConvolution(OnnxNodeContext c, (int H, int W) kernel, (int H, int W) stride, (int H, int W) dilation, int[] pads, string autoPad, int groups)
    {
        (this.kernel, this.stride, this.dilation, this.pads, this.autoPad, this.groups) = (kernel, stride, dilation, pads, autoPad, groups);
        label = $"ONNX node {c.Label}";
        Kernel = c.Named((x, training) =>
        {
            var (input, padding) = Padded(x[0]!);
            if (training) kept.Clear();   // the kept transform (about 5x the weights) is not held through training
            return Functional.Conv2d(input, x[1]!, x.Length > 2 ? x[2] : null, stride, padding, dilation, groups, relu: false,
                training ? null : kept);
        });
    }

    /// <summary>The node as the file has it.</summary>
    public OnnxKernel Kernel { get; }

    /// <summary>The running statistics and affine of a BatchNormalization folded into the convolution, and its epsilon.</summary>
    public sealed record Norm(Tensor Scale, Tensor Shift, Tensor Mean, Tensor Variance, float Epsilon);

    /// <summary>
    /// Inference (evaluation mode, under no-grad): the convolution of x, with <paramref name="norm"/> folded in, then
    /// ReLU(· + residual) with a <paramref name="residual"/>, else ReLU with <paramref name="relu"/>. The same values as the
    /// nodes it replaces up to float rounding (the fold reorders products). A residual whose shape is not the output's
    /// (an Add that broadcasts) is added after the convolution, as the Add node would.
    /// </summary>
    public Tensor Infer(Tensor x, Tensor weight, Tensor? bias, Norm? norm, bool relu, Tensor? residual)
    {
        try
        {
            var (input, layer) = Layer(x, weight, bias, norm);
            var y = residual is null || layer.GeometryFor(input.Shape) is { } g && residual.Shape == new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth)
                ? Functional.Conv2dInference(input, layer, relu || residual is not null, residual)
                : AddThenRelu(Functional.Conv2dInference(input, layer, relu: false), residual);
            if (!ReferenceEquals(input, x)) input.Release();
            return y;
        }
        catch (ArgumentException e) { throw new ArgumentException($"{label}: {e.Message}", e); }
    }

    private static Tensor AddThenRelu(Tensor y, Tensor residual)
    {
        var sum = y + residual;
        y.Release();
        var result = Functional.Relu(sum);
        sum.Release();
        return result;
    }

    /// <summary>
    /// Two convolutions with a ReLU between as one call (<see cref="Functional.Conv2dPairInference"/>: the intermediate in
    /// 16-channel pixels), or null where that does not run on these shapes (or a pad is asymmetric); the caller then makes
    /// the two calls.
    /// </summary>
    public static Tensor? InferPair(Tensor x, OnnxConvolution first, Tensor weight1, Tensor? bias1, Norm? norm1,
        OnnxConvolution second, Tensor weight2, Tensor? bias2, Norm? norm2, bool relu, Tensor? residual)
    {
        if (x.Rank != 4 || first.SymmetricPadding(x.Shape) is not { } padding1) return null;
        var layer1 = first.Layer(weight1, bias1, norm1, padding1);
        if (layer1?.GeometryFor(x.Shape) is not { } g1) return null;
        var h = new Shape(g1.Batch, g1.OutChannels, g1.OutHeight, g1.OutWidth);
        if (second.SymmetricPadding(h) is not { } padding2 || second.Layer(weight2, bias2, norm2, padding2) is not { } layer2) return null;
        return Functional.Conv2dPairInference(x, layer1, layer2, relu, residual);
    }

    // The padding on an input of this shape where it is the same on both sides, as the core op pads; else null.
    private (int, int)? SymmetricPadding(Shape x)
    {
        var p = OnnxPadding.Resolve(autoPad, pads, x, kernel, stride, dilation);
        return p[0] == p[2] && p[1] == p[3] ? (p[0], p[1]) : null;
    }

    // The input padded where its pads are asymmetric (the core op pads symmetrically), and the layer as inference runs it.
    private (Tensor Input, InferenceConvolution Layer) Layer(Tensor x, Tensor weight, Tensor? bias, Norm? norm)
    {
        var (input, padding) = Padded(x);
        return (input, Layer(weight, bias, norm, padding) ?? throw new ArgumentException(
            $"its BatchNormalization's statistics ({norm!.Mean.Length}, {norm.Variance.Length}, {norm.Scale.Length}, {norm.Shift.Length} values) " +
            $"do not match the convolution's {weight.Shape[0]} output channels."));
    }

    private InferenceConvolution? Layer(Tensor weight, Tensor? bias, Norm? norm, (int, int) padding)
    {
        if (norm is null) return new(weight, bias, null, stride, padding, dilation, groups, kept);
        int channels = weight.Rank == 4 ? weight.Shape[0] : -1;
        if (norm.Mean.Length != channels || norm.Variance.Length != channels || norm.Scale.Length != channels || norm.Shift.Length != channels
            || bias is not null && bias.Length != channels)
            return null;
        var fold = Folded(bias, norm);
        return new(weight, fold.Bias, fold.Scale, stride, padding, dilation, groups, kept);
    }

    // The fold's per-channel scale and bias, made again only when the statistics, affine, bias or epsilon differ from
    // the last call's (a square root and a division per channel otherwise, about a twentieth of a small layer's time).
    private Fold Folded(Tensor? bias, Norm norm)
    {
        ReadOnlySpan<float> b = bias is null ? default : bias.Data;
        if (lastFold is { } f && f.Epsilon == norm.Epsilon && f.Matches(norm.Scale.Data, norm.Shift.Data, norm.Mean.Data, norm.Variance.Data, b))
            return f;
        int channels = norm.Mean.Length;
        var scale = new double[channels];
        var folded = new float[channels];
        BatchNormFold.Scales(norm.Scale.Data, norm.Variance.Data, norm.Epsilon, scale);
        BatchNormFold.Bias(b, norm.Mean.Data, norm.Shift.Data, scale, folded);
        f = new Fold([.. norm.Scale.Data, .. norm.Shift.Data, .. norm.Mean.Data, .. norm.Variance.Data, .. b], norm.Epsilon, scale,
            Tensor.FromArray(folded, channels));
        lastFold = f;
        return f;
    }

    private Fold? lastFold;

    // Sources: gamma, beta, mean, variance and the bias (if any), one after another, as they were when folded.
    private sealed record Fold(float[] Sources, float Epsilon, double[] Scale, Tensor Bias)
    {
        public bool Matches(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, ReadOnlySpan<float> bias)
        {
            int k = gamma.Length;
            return Sources.Length == 4 * k + bias.Length && WeightCheck.Same(gamma, Sources.AsSpan(0, k)) && WeightCheck.Same(beta, Sources.AsSpan(k, k))
                && WeightCheck.Same(mean, Sources.AsSpan(2 * k, k)) && WeightCheck.Same(variance, Sources.AsSpan(3 * k, k))
                && WeightCheck.Same(bias, Sources.AsSpan(4 * k));
        }
    }

    private (Tensor Input, (int Height, int Width) Padding) Padded(Tensor x) =>
        OnnxPadding.Spatial(x, OnnxPadding.Resolve(autoPad, pads, x.Shape, kernel, stride, dilation), 0f);
}
