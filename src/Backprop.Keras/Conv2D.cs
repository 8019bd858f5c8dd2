using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Conv2D</c>: <c>filters</c> kernels slid over a (height, width, channels) input, output
/// (out_h, out_w, filters). Valid padding: out = floor((in − k) / stride) + 1; same: out = ceil(in / stride),
/// the extra row and column (odd total padding) at the bottom and right, as TensorFlow pads.
/// Weights live in a core <see cref="Backprop.Nn.Conv2d"/> (kernel (filters, in, kh, kw)); <see cref="GetWeights"/>
/// gives Keras's kernel layout (kh, kw, in, filters) and the bias. Parameters: kh·kw·in·filters + filters.
/// </summary>
public sealed class Conv2D : Layer
{
    private int extraBottom, extraRight;

    public Conv2D(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", string? activation = null,
        KerasShape? inputShape = null, bool useBias = true, string kernelInitializer = "glorot_uniform",
        string biasInitializer = "zeros", string? name = null)
        : base(name, inputShape)
    {
        string where = $"Conv2D({filters}, {kernelSize})";
        if (filters < 1) throw new ArgumentException($"{where}: filters must be positive.");
        if (kernelSize.Height < 1 || kernelSize.Width < 1) throw new ArgumentException($"{where}: the kernel size must be positive.");
        var s = strides ?? 1;
        if (s.Height < 1 || s.Width < 1) throw new ArgumentException($"{where}: strides {s} must be positive.");
        if (inputShape is not null && inputShape.Rank != 3)
            throw new ArgumentException($"{where}: inputShape must be (height, width, channels), got {inputShape}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = s;
        Padding = Keras.Padding.Validate(padding, where);
        activationName = Activations.Validate(activation, where);
        UseBias = useBias;
        KernelInitializer = Initializers.Validate(kernelInitializer, where);
        BiasInitializer = Initializers.Validate(biasInitializer, where);
    }

    private readonly string activationName;

    public int Filters { get; }
    public Size2D KernelSize { get; }
    public Size2D Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }
    public override string ActivationName => activationName;
    public bool UseBias { get; }
    public string KernelInitializer { get; }
    public string BiasInitializer { get; }

    /// <summary>The core convolution (symmetric padding; an odd extra row/column is padded explicitly before it).</summary>
    public Conv2d Conv => (Conv2d)(Module ?? throw NotBuilt());

    internal override long StoredWeightCount(KerasShape input) =>
        input.Rank == 3 ? ((long)KernelSize.Height * KernelSize.Width * input[2] + (UseBias ? 1 : 0)) * Filters : 0;

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels); Dense/Flatten outputs cannot feed Conv2D");
        var (oh, top, bottom) = Keras.Padding.Compute(Padding, input[0], KernelSize.Height, Strides.Height);
        var (ow, left, right) = Keras.Padding.Compute(Padding, input[1], KernelSize.Width, Strides.Width);
        if (oh < 1 || ow < 1)
            throw ShapeError(input, $"an input of at least {KernelSize.Height}x{KernelSize.Width} pixels for its {KernelSize.Height}x{KernelSize.Width} kernel with valid padding");
        extraBottom = bottom - top;
        extraRight = right - left;
        var conv = new Conv2d(input[2], Filters, KernelSize.Tuple, Strides.Tuple, (top, left), (1, 1), 1, UseBias, new Generator(0));
        Initializers.Fill(KernelInitializer, conv.Weight, generator);
        if (conv.Bias is not null) Initializers.Fill(BiasInitializer, conv.Bias, generator);
        Module = conv;
        return new KerasShape(oh, ow, Filters);
    }

    internal override Tensor Forward(Tensor x, bool training) =>
        Conv.Forward(Keras.Padding.Pad(x, 0, extraBottom, 0, extraRight));

    internal override Tensor? ForwardRelu(Tensor x, bool training) =>
        Conv.ForwardRelu(Keras.Padding.Pad(x, 0, extraBottom, 0, extraRight));

    /// <summary>Whether the convolution pads alike on every side (no extra row or column for 'same' with an even kernel).</summary>
    internal bool PadsEvenly => extraBottom == 0 && extraRight == 0;

    /// <summary>[kernel (kh, kw, in, filters), bias (filters)] (bias only with useBias).</summary>
    public override IReadOnlyList<Tensor> GetWeights() => KernelAndBias(Conv.Weight, Conv.Bias);

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        var conv = Conv;
        SetKernelAndBias(weights, conv.Weight, conv.Bias, KernelSize.Height, KernelSize.Width, conv.InChannels, Filters);
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize.Height, KernelSize.Width);
        config["strides"] = new JsonArray(Strides.Height, Strides.Width);
        config["padding"] = Padding;
        config["activation"] = ActivationName;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = KernelInitializer;
        config["bias_initializer"] = BiasInitializer;
    }
}
