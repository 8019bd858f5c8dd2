using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>DepthwiseConv2D</c>: each input channel convolved with its own <c>depthMultiplier</c>
/// kernels, output (out_h, out_w, in·depthMultiplier) with output channel c·depthMultiplier + m from input channel c
/// (TensorFlow's order); output sizes as <see cref="Conv2D"/>. Weights live in a core grouped
/// <see cref="Backprop.Nn.Conv2d"/> (groups = in, kernel (in·depthMultiplier, 1, kh, kw)); <see cref="GetWeights"/>
/// gives Keras's depthwise kernel (kh, kw, in, depthMultiplier) and the bias.
/// Parameters: kh·kw·in·depthMultiplier + in·depthMultiplier.
/// </summary>
public sealed class DepthwiseConv2D : Layer
{
    private readonly string activationName;
    private int extraBottom, extraRight;

    public DepthwiseConv2D(Size2D kernelSize, Size2D? strides = null, string padding = "valid", int depthMultiplier = 1,
        string? activation = null, KerasShape? inputShape = null, bool useBias = true, string depthwiseInitializer = "glorot_uniform",
        string biasInitializer = "zeros", string? name = null)
        : base(name, inputShape)
    {
        string where = $"DepthwiseConv2D({kernelSize})";
        (Strides, Padding) = SeparableParts.Validate(where, kernelSize, strides, padding, depthMultiplier, inputShape);
        KernelSize = kernelSize;
        DepthMultiplier = depthMultiplier;
        activationName = Activations.Validate(activation, where);
        UseBias = useBias;
        DepthwiseInitializer = Initializers.Validate(depthwiseInitializer, where);
        BiasInitializer = Initializers.Validate(biasInitializer, where);
    }

    public Size2D KernelSize { get; }
    public Size2D Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }
    public int DepthMultiplier { get; }
    public override string ActivationName => activationName;
    public bool UseBias { get; }
    public string DepthwiseInitializer { get; }
    public string BiasInitializer { get; }

    /// <summary>The core grouped convolution.</summary>
    public Conv2d Conv => (Conv2d)(Module ?? throw NotBuilt());

    internal override long StoredWeightCount(KerasShape input) =>
        input.Rank == 3 ? ((long)KernelSize.Height * KernelSize.Width + (UseBias ? 1 : 0)) * input[2] * DepthMultiplier : 0;

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        var (conv, oh, ow, extra) = SeparableParts.Depthwise(this, input, KernelSize, Strides, Padding, DepthMultiplier, UseBias,
            DepthwiseInitializer, generator);
        (extraBottom, extraRight) = extra;
        if (conv.Bias is not null) Initializers.Fill(BiasInitializer, conv.Bias, generator);
        Module = conv;
        return new KerasShape(oh, ow, input[2] * DepthMultiplier);
    }

    internal override Tensor Forward(Tensor x, bool training) => Conv.Forward(Keras.Padding.Pad(x, 0, extraBottom, 0, extraRight));

    /// <summary>[depthwise kernel (kh, kw, in, depthMultiplier), bias (in·depthMultiplier)] (bias only with useBias).</summary>
    public override IReadOnlyList<Tensor> GetWeights()
    {
        var conv = Conv;
        var kernel = SeparableParts.DepthwiseToKeras(conv, DepthMultiplier);
        return conv.Bias is null ? [kernel] : [kernel, conv.Bias.Detach().Clone()];
    }

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var conv = Conv;
        CheckWeightCount(weights, conv.Bias is null ? 1 : 2);
        CheckWeightShape(weights[0], 0, KernelSize.Height, KernelSize.Width, conv.Groups, DepthMultiplier);
        if (conv.Bias is not null) CheckWeightShape(weights[1], 1, conv.OutChannels);
        SeparableParts.DepthwiseFromKeras(weights[0], conv);
        if (conv.Bias is not null) weights[1].AsSpan().CopyTo(conv.Bias.AsSpan());
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["kernel_size"] = new JsonArray(KernelSize.Height, KernelSize.Width);
        config["strides"] = new JsonArray(Strides.Height, Strides.Width);
        config["padding"] = Padding;
        config["depth_multiplier"] = DepthMultiplier;
        config["activation"] = ActivationName;
        config["use_bias"] = UseBias;
        config["depthwise_initializer"] = DepthwiseInitializer;
        config["bias_initializer"] = BiasInitializer;
    }
}
