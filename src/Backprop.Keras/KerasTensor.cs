namespace Backprop.Keras;

/// <summary>
/// Keras's symbolic tensor in the functional API: no values, only the sample shape (Keras's order, batch left out)
/// and where it comes from. An <see cref="Input"/> starts a graph; <c>layer.Apply(tensor)</c> builds the layer on
/// the tensor's shape (drawing its weights from the graph's generator) and returns its output tensor; a
/// <see cref="Model"/> is then made from the input and output tensors.
/// </summary>
public class KerasTensor
{
    private protected KerasTensor(KerasShape shape, Layer layer, IReadOnlyList<KerasTensor> inbound, FunctionalGraph graph)
    {
        Shape = shape;
        Layer = layer;
        Inbound = inbound;
        Graph = graph;
    }

    /// <summary>The sample shape, batch left out.</summary>
    public KerasShape Shape { get; }

    /// <summary>The layer that produced this tensor (an <see cref="InputLayer"/> for an <see cref="Input"/>).</summary>
    public Layer Layer { get; }

    /// <summary>The tensors the layer was applied to (none for an input).</summary>
    public IReadOnlyList<KerasTensor> Inbound { get; }

    /// <summary>The graph it belongs to: the generator, the layers called so far and their names.</summary>
    internal FunctionalGraph Graph { get; }

    /// <summary>Applies <paramref name="layer"/> to <paramref name="inputs"/> (built and named here, in call order).</summary>
    internal static KerasTensor Create(Layer layer, IReadOnlyList<KerasTensor> inputs, Func<KerasShape> build)
    {
        var graph = inputs[0].Graph;
        foreach (var t in inputs)
        {
            ArgumentNullException.ThrowIfNull(t);
            if (t.Graph != graph)
                throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) is applied to tensors from different Inputs ('{graph.Input.Layer.Name}' and '{t.Graph.Input.Layer.Name}'); models with several inputs are not supported yet.");
        }
        if (layer.IsBuilt) return Reuse(layer, inputs, graph);
        bool named = layer.Name.Length > 0;
        graph.AssignName(layer);
        KerasShape shape;
        try
        {
            shape = build();
        }
        catch
        {
            graph.ReleaseName(layer, named);   // a corrected retry can use the layer and its name
            throw;
        }
        var output = new KerasTensor(shape, layer, [.. inputs], graph);
        graph.Nodes.Add(output);
        return output;
    }

    /// <summary>
    /// A shared layer's next call (Keras's <c>layer(a); layer(b)</c>): the same weights on another tensor of the shape it
    /// was built on. A layer built in another model or on another shape is refused.
    /// </summary>
    private static KerasTensor Reuse(Layer layer, IReadOnlyList<KerasTensor> inputs, FunctionalGraph graph)
    {
        if (!graph.Nodes.Any(n => n.Layer == layer))
            throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) already belongs to another model (a Sequential or another Input's graph); create a new layer.");
        IReadOnlyList<KerasShape> built = layer is MergeLayer merge ? merge.InputShapes : [layer.InputShape];
        if (built.Count != inputs.Count || built.Zip(inputs).Any(p => !p.First.Equals(p.Second.Shape)))
            throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) is shared: it was built on {string.Join(", ", built.Select(s => s.WithBatch()))} " +
                $"and cannot be applied to {string.Join(", ", inputs.Select(t => $"'{t.Layer.Name}' {t.Shape.WithBatch()}"))}.");
        var output = new KerasTensor(layer.OutputShape, layer, [.. inputs], graph);
        graph.Nodes.Add(output);
        return output;
    }

    /// <summary>Keras's text: <c>KerasTensor(shape=(None, 62, 62, 32), name=conv2d)</c>.</summary>
    public override string ToString() => $"KerasTensor(shape={Shape.WithBatch()}, name={Layer.Name})";
}

/// <summary>
/// Keras's <c>Input(shape)</c>: the start of a functional model. Its seed (or generator) is the model's: every layer
/// applied downstream draws its initial weights from it in call order, and Fit shuffles and drops out from it, so
/// a functional model and a <see cref="Sequential"/> with the same layers and seed start and train identically.
/// </summary>
public sealed class Input : KerasTensor
{
    /// <summary>An input drawing from <paramref name="generator"/> (or the default generator's next seed).</summary>
    public Input(KerasShape shape, Generator? generator = null, string? name = null)
        : this(new InputLayer(shape ?? throw new ArgumentNullException(nameof(shape)), name), generator ?? new Generator(Generator.Default.NextUInt64()))
    {
    }

    /// <summary>An input whose model draws weights, shuffling and dropout from <paramref name="seed"/>.</summary>
    public Input(KerasShape shape, ulong seed, string? name = null) : this(shape, new Generator(seed), name) { }

    private Input(InputLayer layer, Generator generator) : base(layer.DeclaredInputShape!, layer, [], new FunctionalGraph(generator))
    {
        Graph.Input = this;
        Graph.AssignName(layer, "input_1");
        layer.Build(layer.DeclaredInputShape!, Graph.Generator);
    }
}
