using System.Text.RegularExpressions;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>Sequential</c>: a stack of layers, each fed by the one before. Shapes are Keras's (channels last,
/// batch left out): Fit, Evaluate and Predict take x as (N, height, width, channels) for image models and
/// (N, features) for vector models, and Predict answers in the same order. Inside, the core runs channels-first
/// (N, C, H, W); the model converts at its edges, and its weights are the core's (see <see cref="Network"/>).
/// Weights are drawn from the model's own generator when each layer is added: the same seed gives the same
/// weights, the same shuffling and the same dropout masks.
/// </summary>
public sealed partial class Sequential
{
    private readonly List<Layer> layers = [];
    private readonly Network network;

    /// <summary>While a saved model is rebuilt: the weights file's bytes not yet claimed by a layer (each stored weight takes at least one).</summary>
    private long? weightBudget;

    /// <summary>A model seeded from <see cref="Generator.Default"/> (repeatable after <c>Generator.ManualSeed</c>).</summary>
    public Sequential(params Layer[] layers) : this(new Generator(Generator.Default.NextUInt64()), layers) { }

    /// <summary>A model whose weights, shuffling and dropout come from <paramref name="seed"/>.</summary>
    public Sequential(ulong seed, params Layer[] layers) : this(new Generator(seed), layers) { }

    /// <summary>A model drawing from <paramref name="generator"/>.</summary>
    public Sequential(Generator generator, params Layer[] layers) : this(layers, generator, "sequential") { }

    /// <summary>A named model drawing from <paramref name="generator"/> (or the default generator's next seed).</summary>
    public Sequential(IEnumerable<Layer> layers, Generator? generator = null, string name = "sequential")
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Generator = generator ?? new Generator(Generator.Default.NextUInt64());
        Name = name;
        network = new Network(this);
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>The model's name, shown by <see cref="Summary"/>.</summary>
    public string Name { get; }

    /// <summary>The generator for initial weights, shuffling and dropout.</summary>
    public Generator Generator { get; }

    /// <summary>The layers in order (an <see cref="InputLayer"/>, if added, included).</summary>
    public IReadOnlyList<Layer> Layers => layers;

    /// <summary>The layer named <paramref name="name"/>.</summary>
    public Layer GetLayer(string name) => layers.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"Model '{Name}' has no layer named '{name}'. Layers: {string.Join(", ", layers.Select(l => l.Name))}.");

    /// <summary>
    /// The core module holding all weights under the layers' names (<c>conv2d.weight</c> in the core's
    /// (out, in, kh, kw) layout, <c>dense.weight</c> (out, in), ...). Its <c>Forward</c> takes channels-first input.
    /// </summary>
    public Module Network => network;

    /// <summary>The sample shape the model takes (Keras's order, batch left out).</summary>
    public KerasShape InputShape => layers.Count > 0 ? layers[0].InputShape : throw Empty();

    /// <summary>The sample shape the model gives.</summary>
    public KerasShape OutputShape => layers.Count > 0 ? layers[^1].OutputShape : throw Empty();

    /// <summary>Set by a callback to stop <c>Fit</c> after the current epoch (Keras's <c>stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>
    /// Appends a layer and builds it: its output shape is inferred and its weights drawn now. The first layer
    /// needs an inputShape (or be an <see cref="InputLayer"/>); a layer that cannot take the previous output
    /// throws with both layers' names and shapes.
    /// </summary>
    public Sequential Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (layers.Contains(layer)) throw new ArgumentException($"Layer '{layer.Name}' is already in model '{Name}'.");
        if (layer.IsBuilt) throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) already belongs to another model; create a new layer.");
        AssignName(layer);
        KerasShape input;
        if (layers.Count == 0)
        {
            input = layer.DeclaredInputShape ?? throw new ArgumentException(
                $"The first layer of model '{Name}', '{layer.Name}' ({layer.ClassName}), needs an inputShape, e.g. " +
                "inputShape: (64, 64, 3) for 64x64 RGB images (height, width, channels) or inputShape: 784 for vectors; or add an InputLayer first.");
        }
        else
        {
            if (layer is InputLayer) throw new ArgumentException($"An InputLayer can only be the first layer of model '{Name}'.");
            input = layers[^1].OutputShape;
            if (layer.DeclaredInputShape is { } declared && !declared.Equals(input))
                throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) declares inputShape {declared}, but the previous layer '{layers[^1].Name}' outputs {input.WithBatch()}.");
        }
        if (weightBudget is long budget)
        {
            long needed = layer.StoredWeightCount(input);
            if (needed > budget)
                throw new InvalidDataException($"layer '{layer.Name}' ({layer.ClassName}) on input {input.WithBatch()} needs {needed} weights, more than the {budget} bytes of the file left for it can hold");
            weightBudget = budget - needed;
        }
        try
        {
            layer.Build(input, Generator);
        }
        catch (ArgumentException e) when (layers.Count > 0)
        {
            throw new ArgumentException($"{e.Message} (after layer '{layers[^1].Name}' ({layers[^1].ClassName}) in model '{Name}')", e);
        }
        layers.Add(layer);
        network.Register(layer);
        compiled = null;
        return this;
    }

    private void AssignName(Layer layer)
    {
        if (layer.Name.Length > 0)
        {
            if (layers.Any(l => l.Name == layer.Name)) throw new ArgumentException($"Model '{Name}' already has a layer named '{layer.Name}'.");
            return;
        }
        string stem = SnakeCase(layer.ClassName);
        string name = stem;
        for (int i = 1; layers.Any(l => l.Name == name); i++) name = $"{stem}_{i}";
        layer.Name = name;
    }

    /// <summary>Keras's default-name rule: MaxPooling2D → max_pooling2d, BatchNormalization → batch_normalization.</summary>
    internal static string SnakeCase(string name)
    {
        string s = Regex.Replace(name, "(.)([A-Z][a-z]+)", "$1_$2");
        return Regex.Replace(s, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
    }

    /// <summary>All weights, layer by layer, in Keras's layouts (see each layer's <see cref="Layer.GetWeights"/>).</summary>
    public IReadOnlyList<Tensor> GetWeights() => [.. layers.SelectMany(l => l.GetWeights())];

    /// <summary>Sets all weights from Keras's layouts, in the order <see cref="GetWeights"/> gives them.</summary>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int expected = layers.Sum(l => l.GetWeights().Count);
        if (weights.Count != expected) throw new ArgumentException($"Model '{Name}' has {expected} weight tensors, but {weights.Count} were given.");
        int at = 0;
        foreach (var layer in layers)
        {
            int n = layer.GetWeights().Count;
            layer.SetWeights([.. weights.Skip(at).Take(n)]);
            at += n;
        }
    }

    /// <summary>
    /// Runs the layers on a channels-first batch; the last layer's activation is left out when the loss fuses it. Under
    /// no-grad (Evaluate's batches, each in a pool scope) each layer's result goes back to the pool once the next layer has
    /// read it (<see cref="Tensor.Release"/>), as in <see cref="Nn.Sequential"/>.
    /// </summary>
    internal Tensor ForwardChannelsFirst(Tensor x, bool training, bool withoutFinalActivation)
    {
        if (layers.Count == 0) throw Empty();
        var input = x;
        int last = layers.Count - 1;
        for (int i = 0; i < layers.Count; i++)
        {
            var previous = x;
            if (layers[i] is BatchNormalization norm && i + 1 < layers.Count && layers[i + 1] is Activation { ActivationName: "relu" }
                && !(withoutFinalActivation && i + 1 == last))
            {
                // While recording, a convolution after them takes the three as one op (the ReLU's output not kept for
                // backward); else the normalization and the ReLU are one op. The same values either way.
                if (Autograd.GradMode.IsEnabled && i + 2 < layers.Count && layers[i + 2] is Conv2D { ActivationName: "linear", PadsEvenly: true } conv)
                {
                    x = norm.NormalizeReluConv(conv, x, training);
                    i += 2;
                }
                else
                {
                    x = norm.NormalizeRelu(x, training);
                    i++;
                }
            }
            else x = layers[i].Call(x, training, withoutFinalActivation && i == last);
            previous.ReleaseUnlessShared(input, x);
        }
        return x;
    }

    /// <summary>Checks x against the input shape and returns it channels-first, detached: (N, H, W, C) → (N, C, H, W).</summary>
    internal Tensor ToChannelsFirst(Tensor x, string method, string argument = "x")
    {
        ArgumentNullException.ThrowIfNull(x, argument);
        var expected = InputShape;
        bool ok = x.Rank == expected.Rank + 1;
        for (int i = 0; ok && i < expected.Rank; i++) ok = x.Shape[i + 1] == expected[i];
        if (!ok)
        {
            string order = expected.Rank == 3 ? " (batch, height, width, channels)" : expected.Rank == 1 ? " (batch, features)" : "";
            throw new ArgumentException($"{method}: {argument} has shape {x.Shape}, but model '{Name}' expects {expected.WithBatch()}{order}.", argument);
        }
        var d = x.Detach();
        return d.Rank == 4 ? d.Permute(0, 3, 1, 2) : d;
    }

    /// <summary>A channels-first output in Keras's order: (N, C, H, W) → (N, H, W, C).</summary>
    internal static Tensor ToChannelsLast(Tensor y) => y.Rank == 4 ? y.Permute(0, 2, 3, 1) : y;

    /// <summary>Rows <paramref name="rows"/>[start..start+count) of a contiguous batch, copied into a new tensor.</summary>
    internal static Tensor GatherRows(Tensor x, int[] rows, int start, int count)
    {
        var dims = x.Shape.ToArray();
        int row = x.Length / Math.Max(dims[0], 1);
        dims[0] = count;
        var data = new float[count * row];
        var src = x.AsSpan();
        for (int i = 0; i < count; i++) src.Slice(rows[start + i] * row, row).CopyTo(data.AsSpan(i * row, row));
        return Tensor.FromArray(data, dims);
    }

    private InvalidOperationException Empty() => new($"Model '{Name}' has no layers yet: Add a layer with an inputShape first.");
}
