using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// A functional model's graph as one layer, so that the <see cref="Sequential"/> training loop (Compile, Fit,
/// Evaluate, Predict, callbacks) runs it unchanged: its forward runs every layer the output depends on in call
/// order, the output layer's activation left to <see cref="Layer.Call"/> (and so fused into the loss as in a
/// Sequential), and its module holds each layer's weights under the layer's name.
/// </summary>
internal sealed class GraphLayer : Layer
{
    private readonly KerasTensor input, output;
    private readonly KerasTensor[] nodes;

    public GraphLayer(KerasTensor input, KerasTensor output, IReadOnlyList<KerasTensor> nodes, string name) : base(name, input.Shape)
    {
        this.input = input;
        this.output = output;
        this.nodes = [.. nodes];
        Module = new GraphModule(this);
    }

    public override string ClassName => "Functional";

    public override string ActivationName => output.Layer.ActivationName;

    /// <summary>The layers run, in order of their first call (the input layer first); a shared layer once.</summary>
    public IEnumerable<Layer> Layers => nodes.Select(n => n.Layer).Prepend(input.Layer).Distinct();

    /// <summary>The input, then every layer call the output depends on, in call order (a shared layer once per call).</summary>
    public IReadOnlyList<KerasTensor> Calls => [input, .. nodes];

    /// <summary>Which call of its layer produced <paramref name="tensor"/> (Keras's node index: 0, or 1, 2, ... for a shared layer).</summary>
    public int CallIndex(KerasTensor tensor)
    {
        int index = 0;
        foreach (var call in Calls)
        {
            if (call == tensor) return index;
            if (call.Layer == tensor.Layer) index++;
        }
        throw new ArgumentException($"'{tensor.Layer.Name}' is not part of this model.");
    }

    private protected override KerasShape BuildCore(KerasShape inputShape, Generator generator) => output.Shape;

    internal override Tensor Forward(Tensor x, bool training) => Run(x, training, withoutFinalActivation: true);

    /// <summary>Runs the graph on a channels-first batch.</summary>
    internal Tensor Run(Tensor x, bool training, bool withoutFinalActivation)
    {
        var values = new Dictionary<KerasTensor, Tensor>(nodes.Length + 1) { [input] = x };
        foreach (var node in nodes)
        {
            bool last = node == output;
            values[node] = node.Layer is MergeLayer merge
                ? Activations.Apply(last && withoutFinalActivation ? "linear" : merge.ActivationName, merge.Forward([.. node.Inbound.Select(t => values[t])]))
                : node.Layer.Call(values[node.Inbound[0]], training, last && withoutFinalActivation);
        }
        return values[output];
    }

    /// <summary>The output of <paramref name="target"/>'s first call, activation included, for a channels-first batch.</summary>
    internal Tensor RunTo(Tensor x, Layer target)
    {
        if (target == input.Layer) return x;
        var values = new Dictionary<KerasTensor, Tensor>(nodes.Length + 1) { [input] = x };
        foreach (var node in nodes)
        {
            values[node] = node.Layer is MergeLayer merge
                ? Activations.Apply(merge.ActivationName, merge.Forward([.. node.Inbound.Select(t => values[t])]))
                : node.Layer.Call(values[node.Inbound[0]], training: false);
            if (node.Layer == target) return values[node];
        }
        throw new ArgumentException($"Layer '{target.Name}' is not part of model '{Name}'.");
    }

    public override IReadOnlyList<Tensor> GetWeights() => [.. Layers.SelectMany(l => l.GetWeights())];

    public override void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var layers = Layers.ToList();
        CheckWeightCount(weights, layers.Sum(l => l.GetWeights().Count));
        int at = 0;
        foreach (var layer in layers)
        {
            int n = layer.GetWeights().Count;
            layer.SetWeights([.. weights.Skip(at).Take(n)]);
            at += n;
        }
    }

    private protected override void WriteConfig(JsonObject config) =>
        throw new NotSupportedException($"Model '{Name}': saving a functional model's architecture is not supported yet; use SaveWeights.");

    /// <summary>Each layer's core module under the layer's name; Forward takes a channels-first batch.</summary>
    private sealed class GraphModule : Module
    {
        private readonly GraphLayer graph;

        public GraphModule(GraphLayer graph)
        {
            this.graph = graph;
            foreach (var layer in graph.Layers)
                if (layer.Module is not null) RegisterModule(layer.Name, layer.Module);
        }

        public override Tensor Forward(Tensor input) => graph.Run(input, IsTraining, withoutFinalActivation: false);
    }
}
