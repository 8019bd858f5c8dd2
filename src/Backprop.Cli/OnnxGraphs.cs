using System.Globalization;
using System.Text;
using Backprop.Nn;
using Backprop.Onnx.Import;

namespace Backprop.Cli;

/// <summary>An ONNX file drawn for <c>backprop graph</c>: its nodes along the values they pass, or the backward graph of one forward pass.</summary>
internal static class OnnxGraphs
{
    /// <summary>The DOT for <paramref name="path"/>: the node diagram, or with <paramref name="backward"/> the autograd graph.</summary>
    public static string Draw(string path, bool backward, IReadOnlyCollection<string> freeze, bool showFrozen, string rankdir, IReadOnlyList<int>? inputShape,
                              bool phaseGiven = false)
    {
        if (phaseGiven) throw new ArgumentException($"--phase is for prototxt nets; the ONNX graph {path} has one phase.");
        var module = OnnxImporter.Import(path);
        if (!backward) return NodeDot(module, rankdir, inputShape);
        string dot = BackwardDot(module, freeze, showFrozen, inputShape);
        Console.Error.WriteLine($"Backward graph of ONNX graph {path}" + (freeze.Count > 0 ? $"; frozen: {string.Join(", ", freeze)}." : "."));
        return dot;
    }

    /// <summary>
    /// The autograd graph of one training-mode forward pass on random inputs of the declared shapes, as torchviz draws
    /// it, parameters named by their initializers (<c>conv1.weight</c>). <paramref name="freeze"/> names nodes, or
    /// initializers and their dotted prefixes (<c>conv1</c> for <c>conv1.weight</c> and <c>conv1.bias</c>); their
    /// parameters drop out (or, with <paramref name="showFrozen"/>, show greyed out).
    /// </summary>
    public static string BackwardDot(OnnxModule module, IReadOnlyCollection<string> freeze, bool showFrozen, IReadOnlyList<int>? inputShape = null)
    {
        var parameters = module.NamedParameters().ToList();
        foreach (string name in freeze)
        {
            var node = module.Nodes.FirstOrDefault(n => n.Name == name);
            var matched = parameters.Where(p => node is not null ? node.Inputs.Contains(p.Key) : p.Key == name || p.Key.StartsWith(name + ".", StringComparison.Ordinal)).ToList();
            if (matched.Count == 0)
                throw new ArgumentException($"--freeze: {module.Source} has no node or initializer named '{name}' that holds weights. Weight groups: "
                    + string.Join(", ", parameters.Select(p => p.Key.Contains('.', StringComparison.Ordinal) ? p.Key[..p.Key.LastIndexOf('.')] : p.Key).Distinct()) + ".");
            foreach (var (_, p) in matched) p.RequiresGrad = false;
        }
        module.Train();
        var outputs = module.Forward(OnnxInputs.Random(module, inputShape));
        var output = outputs.Count == 1 ? outputs.Values.Single() : OnnxInputs.BackwardStart(outputs);
        return Autograd.Autograd.ToDot(output, parameters.Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)), showFrozen);
    }

    /// <summary>
    /// One box per node (operator, name, output shape, the weights it reads with their shapes), joined along the values
    /// that flow between nodes; graph inputs and outputs as ovals. Shapes come from one forward pass on zeros.
    /// </summary>
    public static string NodeDot(OnnxModule module, string rankdir, IReadOnlyList<int>? inputShape = null)
    {
        if (rankdir is not ("LR" or "TB" or "BT" or "RL")) throw new ArgumentException($"--rankdir must be LR, TB, BT or RL, not '{rankdir}'.");
        var nodes = module.Nodes;
        var shapes = OutputShapes(module, inputShape);
        var weights = module.NamedParameters().ToDictionary(p => p.Key, p => (Tensor)p.Value);
        foreach (var (name, buffer) in module.NamedBuffers()) weights.TryAdd(name, buffer);
        var producer = new Dictionary<string, string>();
        for (int i = 0; i < module.InputNames.Count; i++) producer[module.InputNames[i]] = Id("in", i);
        for (int i = 0; i < nodes.Count; i++)
            foreach (var o in nodes[i].Outputs) producer.TryAdd(o, Id("n", i));

        var sb = new StringBuilder();
        sb.Append("digraph \"").Append(Escape(Path.GetFileName(module.Source))).Append("\" {\n  rankdir=").Append(rankdir).Append(";\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8f7\", fontname=\"Helvetica\", fontsize=11];\n");
        for (int i = 0; i < module.InputNames.Count; i++)
        {
            var declared = inputShape?.ToArray() ?? module.DeclaredInputShapes[i];
            string shape = declared is null ? "" : "\\n" + new Shape(declared);
            sb.Append("  ").Append(Id("in", i)).Append(" [shape=oval, fillcolor=\"#d5f5d5\", label=\"input: ").Append(Escape(module.InputNames[i])).Append(shape).Append("\"];\n");
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var label = new StringBuilder(Escape(node.OpType));
            if (node.Name.Length > 0) label.Append("\\n").Append(Escape(node.Name));
            if (shapes.TryGetValue(node, out var s)) label.Append("\\n").Append(s);
            foreach (var input in node.Inputs)
                if (weights.TryGetValue(input, out var w)) label.Append("\\n").Append(Escape(input)).Append(' ').Append(w.Shape);
            sb.Append("  ").Append(Id("n", i)).Append(" [label=\"").Append(label).Append("\"];\n");
        }
        for (int i = 0; i < nodes.Count; i++)
            foreach (var input in nodes[i].Inputs.Distinct())
                if (producer.TryGetValue(input, out var from)) sb.Append("  ").Append(from).Append(" -> ").Append(Id("n", i)).Append(";\n");
        for (int o = 0; o < module.OutputNames.Count; o++)
        {
            sb.Append("  ").Append(Id("out", o)).Append(" [shape=oval, fillcolor=\"#f7e0c8\", label=\"output: ").Append(Escape(module.OutputNames[o])).Append("\"];\n");
            if (producer.TryGetValue(module.OutputNames[o], out var from)) sb.Append("  ").Append(from).Append(" -> ").Append(Id("out", o)).Append(";\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>Each node's output shape after one eval-mode pass on zeros; empty when an input has no declared shape.</summary>
    private static Dictionary<OnnxNodeInfo, string> OutputShapes(OnnxModule module, IReadOnlyList<int>? inputShape)
    {
        var shapes = new Dictionary<OnnxNodeInfo, string>();
        if (inputShape is null && module.DeclaredInputShapes.Any(s => s is null)) return shapes;
        module.Eval();
        using (Autograd.Autograd.NoGrad())
            module.Forward(OnnxInputs.Make(module, inputShape, Tensor.Zeros), (node, y) => shapes[node] = y.Shape.ToString());
        return shapes;
    }

    private static string Id(string prefix, int index) => prefix + index.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
