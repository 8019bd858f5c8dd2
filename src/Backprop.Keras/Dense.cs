using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Dense</c>: output = activation(x·kernel + bias) on a (features) input, output (units).
/// Weights live in a core <see cref="Backprop.Nn.Linear"/> (weight (units, in)); <see cref="GetWeights"/> gives
/// Keras's kernel layout (in, units) and the bias. Parameters: in·units + units.
/// </summary>
public sealed class Dense : Layer
{
    private readonly string activationName;

    public Dense(int units, string? activation = null, KerasShape? inputShape = null, bool useBias = true,
        string kernelInitializer = "glorot_uniform", string biasInitializer = "zeros", string? name = null)
        : base(name, inputShape)
    {
        string where = $"Dense({units})";
        if (units < 1) throw new ArgumentException($"{where}: units must be positive.");
        if (inputShape is not null && inputShape.Rank != 1)
            throw new ArgumentException($"{where}: inputShape must be (features), got {inputShape}; put Flatten() first for images.");
        Units = units;
        activationName = Activations.Validate(activation, where);
        UseBias = useBias;
        KernelInitializer = Initializers.Validate(kernelInitializer, where);
        BiasInitializer = Initializers.Validate(biasInitializer, where);
    }

    public int Units { get; }
    public override string ActivationName => activationName;
    public bool UseBias { get; }
    public string KernelInitializer { get; }
    public string BiasInitializer { get; }

    /// <summary>The core fully connected layer.</summary>
    public Linear Linear => (Linear)(Module ?? throw NotBuilt());

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 1) throw ShapeError(input, "a flat input (None, features); add Flatten() or GlobalAveragePooling2D() before it");
        var linear = new Linear(input[0], Units, UseBias, new Generator(0));
        Initializers.Fill(KernelInitializer, linear.Weight, generator);
        if (linear.Bias is not null) Initializers.Fill(BiasInitializer, linear.Bias, generator);
        Module = linear;
        return new KerasShape(Units);
    }

    internal override Tensor Forward(Tensor x, bool training) => Linear.Forward(x);

    internal override long StoredWeightCount(KerasShape input) => input.Rank == 1 ? ((long)input[0] + (UseBias ? 1 : 0)) * Units : 0;

    /// <summary>[kernel (in, units), bias (units)] (bias only with useBias).</summary>
    public override IReadOnlyList<Tensor> GetWeights()
    {
        var linear = Linear;
        var kernel = linear.Weight.Detach().Transpose(0, 1);
        return linear.Bias is null ? [kernel] : [kernel, linear.Bias.Detach().Clone()];
    }

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var linear = Linear;
        CheckWeightCount(weights, linear.Bias is null ? 1 : 2);
        CheckWeightShape(weights[0], 0, linear.InFeatures, Units);
        if (linear.Bias is not null) CheckWeightShape(weights[1], 1, Units);
        weights[0].Detach().Transpose(0, 1).AsSpan().CopyTo(linear.Weight.AsSpan());
        if (linear.Bias is not null) weights[1].AsSpan().CopyTo(linear.Bias.AsSpan());
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["units"] = Units;
        config["activation"] = ActivationName;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = KernelInitializer;
        config["bias_initializer"] = BiasInitializer;
    }
}
