using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>SeparableConv2D</c>: a <see cref="DepthwiseConv2D"/> without bias (depthMultiplier kernels per input
/// channel; strides and padding apply here) followed by a 1x1 convolution to <c>filters</c> channels with
/// the bias. Output (out_h, out_w, filters), sizes as <see cref="Conv2D"/>. Weights live in a
/// <see cref="SeparableConvolution"/>; <see cref="GetWeights"/> gives Keras's [depthwise kernel (kh, kw, in, m),
/// pointwise kernel (1, 1, in·m, filters), bias (filters)]. Parameters: kh·kw·in·m + in·m·filters + filters.
/// </summary>
public sealed class SeparableConv2D : Layer
{
    private readonly string activationName;
    private int extraBottom, extraRight;

    public SeparableConv2D(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", int depthMultiplier = 1,
        string? activation = null, KerasShape? inputShape = null, bool useBias = true, string depthwiseInitializer = "glorot_uniform",
        string pointwiseInitializer = "glorot_uniform", string biasInitializer = "zeros", string? name = null)
        : base(name, inputShape)
    {
        string where = $"SeparableConv2D({filters}, {kernelSize})";
        if (filters < 1) throw new ArgumentException($"{where}: filters must be positive.");
        (Strides, Padding) = SeparableParts.Validate(where, kernelSize, strides, padding, depthMultiplier, inputShape);
        Filters = filters;
        KernelSize = kernelSize;
        DepthMultiplier = depthMultiplier;
        activationName = Activations.Validate(activation, where);
        UseBias = useBias;
        DepthwiseInitializer = Initializers.Validate(depthwiseInitializer, where);
        PointwiseInitializer = Initializers.Validate(pointwiseInitializer, where);
        BiasInitializer = Initializers.Validate(biasInitializer, where);
    }

    public int Filters { get; }
    public Size2D KernelSize { get; }
    public Size2D Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }
    public int DepthMultiplier { get; }
    public override string ActivationName => activationName;
    public bool UseBias { get; }
    public string DepthwiseInitializer { get; }
    public string PointwiseInitializer { get; }
    public string BiasInitializer { get; }

    /// <summary>The core depthwise and pointwise convolutions.</summary>
    public SeparableConvolution Conv => (SeparableConvolution)(Module ?? throw NotBuilt());

    internal override long StoredWeightCount(KerasShape input) =>
        input.Rank == 3 ? (long)KernelSize.Height * KernelSize.Width * input[2] * DepthMultiplier
            + (long)input[2] * DepthMultiplier * Filters + (UseBias ? Filters : 0) : 0;

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        var (depthwise, oh, ow, extra) = SeparableParts.Depthwise(this, input, KernelSize, Strides, Padding, DepthMultiplier, false,
            DepthwiseInitializer, generator);
        (extraBottom, extraRight) = extra;
        var pointwise = new Conv2d(depthwise.OutChannels, Filters, (1, 1), (1, 1), (0, 0), (1, 1), 1, UseBias, new Generator(0));
        Initializers.Fill(PointwiseInitializer, pointwise.Weight, generator);   // core (filters, in·m, 1, 1) has Keras's fans
        if (pointwise.Bias is not null) Initializers.Fill(BiasInitializer, pointwise.Bias, generator);
        Module = new SeparableConvolution(depthwise, pointwise);
        return new KerasShape(oh, ow, Filters);
    }

    internal override Tensor Forward(Tensor x, bool training) => Conv.Forward(Keras.Padding.Pad(x, 0, extraBottom, 0, extraRight));

    /// <summary>[depthwise kernel (kh, kw, in, m), pointwise kernel (1, 1, in·m, filters), bias (filters)] (bias only with useBias).</summary>
    public override IReadOnlyList<Tensor> GetWeights()
    {
        var (d, p) = (Conv.Depthwise, Conv.Pointwise);
        var depthwise = SeparableParts.DepthwiseToKeras(d, DepthMultiplier);
        var pointwise = p.Weight.Detach().Permute(2, 3, 1, 0);
        return p.Bias is null ? [depthwise, pointwise] : [depthwise, pointwise, p.Bias.Detach().Clone()];
    }

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var (d, p) = (Conv.Depthwise, Conv.Pointwise);
        CheckWeightCount(weights, p.Bias is null ? 2 : 3);
        CheckWeightShape(weights[0], 0, KernelSize.Height, KernelSize.Width, d.Groups, DepthMultiplier);
        CheckWeightShape(weights[1], 1, 1, 1, d.OutChannels, Filters);
        if (p.Bias is not null) CheckWeightShape(weights[2], 2, Filters);
        SeparableParts.DepthwiseFromKeras(weights[0], d);
        weights[1].Detach().Permute(3, 2, 0, 1).AsSpan().CopyTo(p.Weight.AsSpan());
        if (p.Bias is not null) weights[2].AsSpan().CopyTo(p.Bias.AsSpan());
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize.Height, KernelSize.Width);
        config["strides"] = new JsonArray(Strides.Height, Strides.Width);
        config["padding"] = Padding;
        config["depth_multiplier"] = DepthMultiplier;
        config["activation"] = ActivationName;
        config["use_bias"] = UseBias;
        config["depthwise_initializer"] = DepthwiseInitializer;
        config["pointwise_initializer"] = PointwiseInitializer;
        config["bias_initializer"] = BiasInitializer;
    }
}

/// <summary>
/// The core module behind <see cref="SeparableConv2D"/>: a depthwise grouped <see cref="Conv2d"/> (no bias) then a
/// 1x1 <see cref="Conv2d"/> with the bias; parameters <c>depthwise.weight</c>, <c>pointwise.weight</c>, <c>pointwise.bias</c>.
/// </summary>
public sealed class SeparableConvolution : Module
{
    internal SeparableConvolution(Conv2d depthwise, Conv2d pointwise)
    {
        Depthwise = RegisterModule("depthwise", depthwise);
        Pointwise = RegisterModule("pointwise", pointwise);
    }

    public Conv2d Depthwise { get; }
    public Conv2d Pointwise { get; }

    public override Tensor Forward(Tensor input) => Pointwise.Forward(Depthwise.Forward(input));
}
