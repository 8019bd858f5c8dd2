using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// A Keras layer: a name, the shapes it maps between (Keras's channels-last order, batch left out), and the
/// core module that holds its weights in the core's layout (<see cref="Backprop.Nn.Conv2d"/>,
/// <see cref="Backprop.Nn.Linear"/>, <see cref="Backprop.Nn.BatchNorm2d"/>; null for layers without weights).
/// A layer is built when it is added to a <see cref="Sequential"/> whose input shape is known: the output
/// shape is inferred then, so a bad stack fails at <c>Add</c> with the layer's name and shapes.
/// </summary>
public abstract class Layer
{
    private bool trainable = true;

    protected Layer(string? name, KerasShape? inputShape)
    {
        if (name is not null && (name.Length == 0 || name.Contains('.') || name.Contains('/')))
            throw new ArgumentException($"Layer name '{name}' must be non-empty and contain no '.' or '/'.");
        Name = name ?? "";
        DeclaredInputShape = inputShape;
    }

    /// <summary>The layer's name (Keras's default names: conv2d, conv2d_1, dense, ...; set when added to a model).</summary>
    public string Name { get; internal set; }

    /// <summary>Keras's class name, shown in <c>Summary()</c> and saved in model files: "Conv2D", "Dense", ...</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The input shape given to the constructor (needed on a model's first layer).</summary>
    public KerasShape? DeclaredInputShape { get; }

    /// <summary>The sample shape coming in, batch left out (set when built).</summary>
    public KerasShape InputShape => inputShape ?? throw NotBuilt();

    /// <summary>The sample shape going out, batch left out (set when built).</summary>
    public KerasShape OutputShape => outputShape ?? throw NotBuilt();

    private KerasShape? inputShape, outputShape;

    /// <summary>True once the layer has weights and shapes.</summary>
    public bool IsBuilt => outputShape is not null;

    /// <summary>The core module holding this layer's weights in the core's layout, or null for a layer without weights.</summary>
    public Module? Module { get; protected set; }

    /// <summary>The activation applied after the layer's own computation ("linear" for none).</summary>
    public virtual string ActivationName => "linear";

    /// <summary>Whether the optimizer updates this layer's weights (Keras's <c>layer.trainable</c>).</summary>
    public bool Trainable
    {
        get => trainable;
        set
        {
            trainable = value;
            Module?.RequiresGrad(value);
        }
    }

    /// <summary>Weights the optimizer may update (zero when frozen).</summary>
    public long TrainableParamCount => Module is null ? 0 : Module.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Length);

    /// <summary>Frozen weights plus state that is saved but not learned (batch normalization's moving statistics).</summary>
    public long NonTrainableParamCount => Module is null ? 0 :
        Module.Parameters().Where(p => !p.RequiresGrad).Sum(p => (long)p.Length) + Module.NamedBuffers().Sum(b => (long)b.Value.Length);

    /// <summary>All weights, as Keras's <c>count_params()</c>.</summary>
    public long ParamCount => TrainableParamCount + NonTrainableParamCount;

    /// <summary>Copies of the weights in Keras's layout and order (a conv kernel (kh, kw, in, out) then its bias, ...).</summary>
    public virtual IReadOnlyList<Tensor> GetWeights() => [];

    /// <summary>Sets the weights from Keras's layout and order, as returned by <see cref="GetWeights"/>.</summary>
    public virtual void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        CheckWeightCount(weights, 0);
    }

    internal void Build(KerasShape input, Generator generator)
    {
        if (IsBuilt) throw new InvalidOperationException($"Layer '{Name}' ({ClassName}) is already part of a model; create a new layer instead.");
        var output = BuildCore(input, generator);
        inputShape = input;
        outputShape = output;
        if (!trainable) Module?.RequiresGrad(false);
    }

    /// <summary>Infers the output shape from <paramref name="input"/> and creates the weights.</summary>
    private protected abstract KerasShape BuildCore(KerasShape input, Generator generator);

    /// <summary>
    /// How many weight values a weights file must hold for this layer on <paramref name="input"/>, computed without
    /// building it, so a saved model's configuration can be checked against its file before anything is allocated.
    /// A shape the layer cannot take gives 0 (building then reports it).
    /// </summary>
    internal virtual long StoredWeightCount(KerasShape input) => 0;

    /// <summary>The layer's computation on a channels-first batch, without <see cref="ActivationName"/>.</summary>
    internal abstract Tensor Forward(Tensor x, bool training);

    /// <summary>
    /// <c>Relu(Forward(x, training))</c> as one op with the same values, where the layer has one (a convolution applies the
    /// ReLU in its output pass and keeps one activation less for backward); null elsewhere.
    /// </summary>
    internal virtual Tensor? ForwardRelu(Tensor x, bool training) => null;

    /// <summary>
    /// The layer's computation followed by its activation, unless that is left for the loss to fuse. Under no-grad the
    /// computation's own result goes back to its pool once the activation has read it (<see cref="Tensor.Release"/>).
    /// </summary>
    internal Tensor Call(Tensor x, bool training, bool withoutActivation = false)
    {
        if (!withoutActivation && ActivationName == "relu" && ForwardRelu(x, training) is { } fused) return fused;
        var y = Forward(x, training);
        if (withoutActivation) return y;
        var activated = Activations.Apply(ActivationName, y);
        y.ReleaseUnlessShared(x, activated);
        return activated;
    }

    /// <summary>The layer's own settings for the model file (name, input shape and trainable are added by the base).</summary>
    private protected abstract void WriteConfig(JsonObject config);

    internal JsonObject GetConfig()
    {
        var config = new JsonObject { ["name"] = Name, ["trainable"] = Trainable };
        if (DeclaredInputShape is not null) config["input_shape"] = new JsonArray([.. DeclaredInputShape.ToArray().Select(d => (JsonNode)d)]);
        WriteConfig(config);
        return config;
    }

    private protected Exception NotBuilt() =>
        new InvalidOperationException($"Layer '{(Name.Length > 0 ? Name : ClassName)}' is not built yet: add it to a Sequential whose first layer has an inputShape.");

    private protected Exception ShapeError(KerasShape input, string expected) =>
        new ArgumentException($"Layer '{Name}' ({ClassName}) expects {expected}, but its input is {input.WithBatch()}.");

    private protected void CheckWeightCount(IReadOnlyList<Tensor> weights, int count)
    {
        if (weights.Count != count)
            throw new ArgumentException($"Layer '{Name}' ({ClassName}) has {count} weight tensors, but {weights.Count} were given.");
    }

    private protected void CheckWeightShape(Tensor weight, int index, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Shape != new Shape(shape))
            throw new ArgumentException($"Layer '{Name}' ({ClassName}): weight {index} must have shape {new Shape(shape)} (Keras's layout), but has {weight.Shape}.");
    }

    /// <summary>
    /// A core convolution's weight (a, b, kh, kw) in Keras's kernel layout (kh, kw, b, a), then a copy of its bias when
    /// it has one: the GetWeights of the convolution layers.
    /// </summary>
    private protected static IReadOnlyList<Tensor> KernelAndBias(Tensor weight, Tensor? bias)
    {
        var kernel = weight.Detach().Permute(2, 3, 1, 0);
        return bias is null ? [kernel] : [kernel, bias.Detach().Clone()];
    }

    /// <summary>
    /// Checks Keras's [kernel (<paramref name="kernelShape"/>), bias] against the layer and copies them into a core
    /// convolution's weight (kernel turned back from (kh, kw, b, a) to (a, b, kh, kw)) and bias.
    /// </summary>
    private protected void SetKernelAndBias(IReadOnlyList<Tensor> weights, Tensor weight, Tensor? bias, params int[] kernelShape)
    {
        ArgumentNullException.ThrowIfNull(weights);
        CheckWeightCount(weights, bias is null ? 1 : 2);
        CheckWeightShape(weights[0], 0, kernelShape);
        if (bias is not null) CheckWeightShape(weights[1], 1, bias.Shape.Length);
        weights[0].Detach().Permute(3, 2, 0, 1).AsSpan().CopyTo(weight.AsSpan());
        if (bias is not null) weights[1].AsSpan().CopyTo(bias.AsSpan());
    }

    public override string ToString() => $"{ClassName}(name={Name})";
}
