using Backprop.Autograd;
using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;

namespace Backprop.Viz;

/// <summary>The backward graph of one TRAIN forward pass of a Caffe net: its DOT, and how many nodes it has.</summary>
/// <param name="Dot">Graphviz DOT (torchviz style; parameters labelled as PyTorch names them, <c>conv1.weight</c>, <c>conv1.bias</c>;
/// blobs of other layers by index, <c>bn1.0</c>).</param>
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
    /// <param name="showFrozen">Draw the frozen parameters too, greyed out, instead of leaving them out.</param>
    public static BackwardGraph Of(NetParameter net, IReadOnlyCollection<string>? freeze = null, IReadOnlyList<int>? inputShape = null, string? baseDirectory = null,
                                   bool showFrozen = false)
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
        var types = built.Layers.GroupBy(l => l.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Type, StringComparer.Ordinal);
        var names = built.NamedParameters().Select(p => new KeyValuePair<string, Tensor>(ParameterName(p.Key, types), p.Value));
        return new BackwardGraph(Autograd.Autograd.ToDot(loss, names, showFrozen), nodes.Count, nodes.Count(n => n is AccumulateGrad));
    }

    /// <summary>
    /// <c>ip1.0</c> → <c>ip1.weight</c>, <c>ip1.1</c> → <c>ip1.bias</c> for the layers whose blobs are a weight and a
    /// bias as in PyTorch (Convolution, Deconvolution, InnerProduct, Embed; PReLU's one blob is its weight); other
    /// names are kept (BatchNorm's mean, variance and factor have no PyTorch parameter to match).
    /// </summary>
    internal static string ParameterName(string name, IReadOnlyDictionary<string, string> layerTypes)
    {
        int dot = name.LastIndexOf('.');
        if (dot < 0 || !layerTypes.TryGetValue(name[..dot], out var type)) return name;
        string blob = name[(dot + 1)..];
        string? pytorch = (type, blob) switch
        {
            ("Convolution" or "Deconvolution" or "InnerProduct" or "Embed" or "PReLU", "0") => "weight",
            ("Convolution" or "Deconvolution" or "InnerProduct" or "Embed", "1") => "bias",
            _ => null,
        };
        return pytorch is null ? name : name[..dot] + "." + pytorch;
    }
}
