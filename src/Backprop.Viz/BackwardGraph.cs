using Backprop.Autograd;
using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;

namespace Backprop.Viz;

/// <summary>The backward graph of one TRAIN forward pass of a Caffe net: its DOT, and how many nodes it has.</summary>
/// <param name="Dot">Graphviz DOT (torchviz style; parameters labelled <c>conv1.0</c>, <c>conv1.1</c>: layer name, blob index).</param>
/// <param name="Nodes">Backward nodes, AccumulateGrad included.</param>
/// <param name="TrainableLeaves">AccumulateGrad nodes: parameters that receive a gradient. Frozen ones have none.</param>
public sealed record BackwardGraph(string Dot, int Nodes, int TrainableLeaves)
{
    /// <summary>
    /// Builds the TRAIN net, freezes the parameters of <paramref name="freeze"/> (lr_mult 0: RequiresGrad false, so
    /// autograd records no AccumulateGrad for them and prunes the ops that only lead to them), runs one forward
    /// pass and returns the backward graph of its loss. With <paramref name="inputShape"/> the data layer becomes an
    /// Input layer fed zeros (labels 0); without it the net reads its real data. Input layers are fed zeros.
    /// </summary>
    public static BackwardGraph Of(NetParameter net, IReadOnlyCollection<string>? freeze = null, IReadOnlyList<int>? inputShape = null, string? baseDirectory = null)
    {
        var built = CaffeInspection.Build(net, Phase.Train, inputShape, baseDirectory);
        foreach (var name in freeze ?? [])
        {
            var layer = built.Layers.FirstOrDefault(l => l.Name == name)
                ?? throw new CaffeNetException($"Cannot freeze '{name}': the TRAIN net has no such layer; its layers with parameters are {string.Join(", ", built.Layers.Where(l => l.Blobs.Count > 0).Select(l => l.Name))}.");
            if (layer.Blobs.Count == 0) throw new CaffeNetException($"Cannot freeze '{name}' ({layer.Type}): it has no parameters.");
            foreach (var blob in layer.Blobs)
            {
                blob.LearningRateMultiplier = 0;
                blob.RequiresGrad = false;
            }
        }
        var context = new NetContext(Phase.Train);
        for (int i = 0; i < built.Layers.Count; i++)
            if (built.Layers[i] is InputLayer)
                foreach (var top in built.Connections(i).Tops)
                    context.Inputs[top] = Tensor.Zeros(built.BlobShapes[top].ToArray());
        var result = built.Forward(context);
        var loss = result.Loss ?? throw new CaffeNetException($"The TRAIN net '{built.Name}' has no loss, so it has no backward graph.");
        var nodes = Autograd.Autograd.Nodes(loss);
        var names = built.NamedParameters().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value));
        return new BackwardGraph(Autograd.Autograd.ToDot(loss, names), nodes.Count, nodes.Count(n => n is AccumulateGrad));
    }
}
