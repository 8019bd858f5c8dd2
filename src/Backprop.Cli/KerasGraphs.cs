using System.Globalization;
using System.Text;
using Backprop.Keras;

namespace Backprop.Cli;

/// <summary>A saved Keras model drawn for <c>backprop graph</c>: its layers, or the backward graph of one forward pass.</summary>
internal static class KerasGraphs
{
    /// <summary>
    /// The autograd graph of one training-mode forward pass on a random input of the model's shape, as torchviz draws
    /// it, parameters named by layer (<c>conv2d.weight</c>). Layers in <paramref name="freeze"/> are frozen first, so
    /// their parameters drop out (or, with <paramref name="showFrozen"/>, show greyed out).
    /// </summary>
    public static string BackwardDot(SavedKerasModel model, IReadOnlyCollection<string> freeze, bool showFrozen)
    {
        foreach (string name in freeze)
        {
            var layer = model.Layers.FirstOrDefault(l => l.Name == name)
                ?? throw new ArgumentException($"--freeze: model '{model.Name}' has no layer named '{name}'. Layers: {string.Join(", ", model.Layers.Select(l => l.Name))}.");
            layer.Trainable = false;
        }
        var shape = model.InputShape;
        // The core module takes channels-first batches: (1, C, H, W) for images, (1, features) for vectors.
        int[] dims = shape.Rank == 3 ? [1, shape[2], shape[0], shape[1]] : [1, .. shape.ToArray()];
        var x = Tensor.Rand(new Generator(0), dims);
        model.Network.Train();
        var output = model.Network.Forward(x);
        return Autograd.Autograd.ToDot(output, model.Network.NamedParameters().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)), showFrozen);
    }

    /// <summary>The layers as boxes (name, class, output shape) joined along the tensors that flow between them.</summary>
    public static string LayerDot(SavedKerasModel model, string rankdir)
    {
        if (rankdir is not ("LR" or "TB" or "BT" or "RL")) throw new ArgumentException($"--rankdir must be LR, TB, BT or RL, not '{rankdir}'.");
        var sb = new StringBuilder();
        sb.Append("digraph \"").Append(Escape(model.Name)).Append("\" {\n  rankdir=").Append(rankdir).Append(";\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8f7\", fontname=\"Helvetica\"];\n");
        foreach (var layer in model.Layers)
        {
            string shape = layer.IsBuilt ? layer.OutputShape.WithBatch() : "";
            string parameters = layer.ParamCount > 0 ? $"\\n{layer.ParamCount.ToString("N0", CultureInfo.InvariantCulture)} params" : "";
            sb.Append("  \"").Append(Escape(layer.Name)).Append("\" [label=\"").Append(Escape(layer.Name)).Append(" (").Append(layer.ClassName)
              .Append(")\\n").Append(shape).Append(parameters).Append("\"];\n");
        }
        foreach (var (from, to) in model.Edges)
            sb.Append("  \"").Append(Escape(from)).Append("\" -> \"").Append(Escape(to)).Append("\";\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
