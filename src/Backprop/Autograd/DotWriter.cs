using System.Globalization;
using System.Text;

namespace Backprop.Autograd;

/// <summary>
/// Writes a backward graph in Graphviz DOT as torchviz's <c>make_dot</c> draws it: parameters (light blue) at the
/// top, each into its AccumulateGrad, arrows from each op's inputs to the op, down to the output (green) at the
/// bottom. Nodes carry PyTorch's names with their <c>0</c> suffix (<c>ConvolutionBackward0</c>); an op the engine
/// fuses is drawn as the PyTorch nodes it stands for, joined by a dashed "fused" edge.
/// </summary>
internal static class DotWriter
{
    // Fused engine ops and the PyTorch nodes they replace, from the input side to the output side.
    private static readonly Dictionary<string, string[]> Fused = new(StringComparer.Ordinal)
    {
        ["ConvolutionReluBackward"] = ["ConvolutionBackward0", "ReluBackward0"],
        ["MaxPool2DReluBackward"] = ["MaxPool2DWithIndicesBackward0", "ReluBackward0"],
        ["BatchNormReluBackward"] = ["NativeBatchNormBackward0", "ReluBackward0"],
        ["CrossEntropyLossBackward"] = ["LogSoftmaxBackward0", "NllLossBackward0"],
    };

    /// <summary>PyTorch's name for an engine node: its name with the <c>0</c> suffix PyTorch's generated nodes carry.</summary>
    public static string PyTorchName(string name) => name.EndsWith("Backward", StringComparison.Ordinal) ? name + "0" : name;

    public static string Write(Tensor output, IEnumerable<KeyValuePair<string, Tensor>>? names, bool showFrozen = false)
    {
        var labels = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        if (names is not null)
            foreach (var (name, p) in names) labels.TryAdd(p, name);

        var nodes = Autograd.Nodes(output);
        var ids = new Dictionary<Node, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nodes.Count; i++) ids[nodes[i]] = "n" + i.ToString(CultureInfo.InvariantCulture);
        // A fused node's inputs go into its first part (id_0), its consumers read its last part (its plain id).
        string Into(Node node) => Fused.ContainsKey(node.Name) ? ids[node] + "_0" : ids[node];

        var sb = new StringBuilder();
        sb.AppendLine("digraph backward {");
        sb.AppendLine("  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=11];");
        sb.AppendLine($"  output [label=\"output\\n{output.Shape}\", fillcolor=\"darkolivegreen1\"];");
        if (nodes.Count > 0) sb.AppendLine($"  {ids[nodes[0]]} -> output;");
        var inGraph = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Node node in nodes)
        {
            if (node is AccumulateGrad acc)
            {
                inGraph.Add(acc.Variable);
                string label = labels.TryGetValue(acc.Variable, out string? name) ? $"{name}\\n{acc.Variable.Shape}" : acc.Variable.Shape.ToString();
                sb.AppendLine($"  {ids[node]} [label=\"AccumulateGrad\", fillcolor=\"lightgray\"];");
                sb.AppendLine($"  {ids[node]}_leaf [label=\"{Escape(label)}\", fillcolor=\"lightblue\"];");
                sb.AppendLine($"  {ids[node]}_leaf -> {ids[node]};");
            }
            else if (Fused.TryGetValue(node.Name, out var parts))
            {
                for (int p = 0; p < parts.Length; p++)
                {
                    string id = p == parts.Length - 1 ? ids[node] : $"{ids[node]}_{p}";
                    sb.AppendLine($"  {id} [label=\"{parts[p]}\", fillcolor=\"lightgray\"];");
                    if (p > 0) sb.AppendLine($"  {(p == 1 ? ids[node] + "_0" : $"{ids[node]}_{p - 1}")} -> {id} [style=dashed, label=\"fused\", fontsize=9];");
                }
            }
            else
            {
                sb.AppendLine($"  {ids[node]} [label=\"{Escape(PyTorchName(node.Name))}\", fillcolor=\"lightgray\"];");
            }
            foreach (Node? next in node.Next)
                if (next is not null) sb.AppendLine($"  {ids[next]} -> {Into(node)};");
        }
        if (showFrozen)
        {
            // Frozen parameters have no AccumulateGrad (autograd records nothing for them): drawn apart, greyed out.
            int f = 0;
            foreach (var (tensor, name) in labels)
                if (!inGraph.Contains(tensor) && !tensor.RequiresGrad)
                    sb.AppendLine($"  frozen{f++} [label=\"{Escape(name)}\\n{tensor.Shape}\\n(frozen, no gradient)\", fillcolor=\"gray95\", fontcolor=\"gray50\", color=\"gray70\", style=\"filled,dashed\"];");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\"", "\\\"", StringComparison.Ordinal);
}
