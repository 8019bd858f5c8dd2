using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Conv2DTranspose</c> ("deconvolution"): the gradient of a <see cref="Conv2D"/> with respect to its
/// input, as TensorFlow defines it. Output size per axis, with kernel k and stride s: valid padding
/// in·s + max(k − s, 0), same padding in·s; with <c>outputPadding</c> p (below the stride):
/// (in − 1)·s + k − 2·pad + p where pad is 0 (valid) or k/2 (same). The full transposed convolution
/// ((in − 1)·s + k) is cropped as TensorFlow crops it (same: max((in − 1)·s + k − out, 0)/2 rows at the top, the
/// rest at the bottom) and extended with zeros (plus bias) where the output is longer.
/// Weights live in a <see cref="TransposedConvolution"/> (kernel (in, filters, kh, kw), PyTorch's layout);
/// <see cref="GetWeights"/> gives Keras's (kh, kw, filters, in) and the bias. Parameters: kh·kw·in·filters + filters.
/// </summary>
public sealed class Conv2DTranspose : Layer
{
    private readonly string activationName;

    public Conv2DTranspose(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", Size2D? outputPadding = null,
        string? activation = null, KerasShape? inputShape = null, bool useBias = true, string kernelInitializer = "glorot_uniform",
        string biasInitializer = "zeros", string? name = null)
        : base(name, inputShape)
    {
        string where = $"Conv2DTranspose({filters}, {kernelSize})";
        if (filters < 1) throw new ArgumentException($"{where}: filters must be positive.");
        if (kernelSize.Height < 1 || kernelSize.Width < 1) throw new ArgumentException($"{where}: the kernel size must be positive.");
        var s = strides ?? 1;
        if (s.Height < 1 || s.Width < 1) throw new ArgumentException($"{where}: strides {s} must be positive.");
        if (outputPadding is { } p && (p.Height < 0 || p.Width < 0 || p.Height >= s.Height || p.Width >= s.Width))
            throw new ArgumentException($"{where}: outputPadding {p} must be at least 0 and smaller than the strides {s}, as in Keras.");
        if (inputShape is not null && inputShape.Rank != 3)
            throw new ArgumentException($"{where}: inputShape must be (height, width, channels), got {inputShape}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = s;
        Padding = Keras.Padding.Validate(padding, where);
        OutputPadding = outputPadding;
        activationName = Activations.Validate(activation, where);
        UseBias = useBias;
        KernelInitializer = Initializers.Validate(kernelInitializer, where);
        BiasInitializer = Initializers.Validate(biasInitializer, where);
    }

    public int Filters { get; }
    public Size2D KernelSize { get; }
    public Size2D Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }

    /// <summary>Extra rows/columns at the bottom/right (Keras's <c>output_padding</c>); null: Keras's default sizes.</summary>
    public Size2D? OutputPadding { get; }
    public override string ActivationName => activationName;
    public bool UseBias { get; }
    public string KernelInitializer { get; }
    public string BiasInitializer { get; }

    /// <summary>The core weights and the crop that makes TensorFlow's output.</summary>
    public TransposedConvolution Conv => (TransposedConvolution)(Module ?? throw NotBuilt());

    /// <summary>Keras's output length and where it starts in the full transposed convolution, along one axis.</summary>
    internal static (int Output, int Start) Geometry(string padding, int input, int kernel, int stride, int? outputPadding)
    {
        long output = outputPadding is int p
            ? ((long)input - 1) * stride + kernel - 2L * (padding == "same" ? kernel / 2 : 0) + p
            : padding == "same" ? (long)input * stride : (long)input * stride + Math.Max(kernel - stride, 0);
        long full = ((long)input - 1) * stride + kernel;
        long start = padding == "same" ? Math.Max(full - output, 0) / 2 : 0;
        return (output is < 1 or > int.MaxValue ? 0 : (int)output, (int)start);
    }

    internal override long StoredWeightCount(KerasShape input) =>
        input.Rank == 3 ? ((long)KernelSize.Height * KernelSize.Width * input[2] + (UseBias ? 1 : 0)) * Filters : 0;

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        var (oh, top) = Geometry(Padding, input[0], KernelSize.Height, Strides.Height, OutputPadding?.Height);
        var (ow, left) = Geometry(Padding, input[1], KernelSize.Width, Strides.Width, OutputPadding?.Width);
        if (oh < 1 || ow < 1) throw ShapeError(input, "an input whose transposed convolution has at least one pixel");
        var conv = new TransposedConvolution(input[2], Filters, KernelSize.Tuple, Strides.Tuple, UseBias, (top, left), (oh, ow));
        Initializers.Fill(KernelInitializer, conv.Weight, generator);   // core (in, filters, kh, kw) has Keras's fans
        if (conv.Bias is not null) Initializers.Fill(BiasInitializer, conv.Bias, generator);
        Module = conv;
        return new KerasShape(oh, ow, Filters);
    }

    internal override Tensor Forward(Tensor x, bool training) => Conv.Forward(x);

    /// <summary>[kernel (kh, kw, filters, in), bias (filters)] (bias only with useBias).</summary>
    public override IReadOnlyList<Tensor> GetWeights() => KernelAndBias(Conv.Weight, Conv.Bias);

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        var conv = Conv;
        SetKernelAndBias(weights, conv.Weight, conv.Bias, KernelSize.Height, KernelSize.Width, Filters, conv.InChannels);
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize.Height, KernelSize.Width);
        config["strides"] = new JsonArray(Strides.Height, Strides.Width);
        config["padding"] = Padding;
        config["output_padding"] = OutputPadding is { } p ? new JsonArray(p.Height, p.Width) : null;
        config["activation"] = ActivationName;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = KernelInitializer;
        config["bias_initializer"] = BiasInitializer;
    }
}
