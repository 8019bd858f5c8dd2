using System.Globalization;
using System.Text;

namespace Backprop.Autograd;

/// <summary>Writes a backward graph in Graphviz DOT, styled like torchviz.</summary>
internal static class DotWriter
{
    public static string Write(Tensor output, IEnumerable<KeyValuePair<string, Tensor>>? names)
    {
        var labels = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        if (names is not null)
            foreach (var (name, p) in names) labels.TryAdd(p, name);

        var nodes = Autograd.Nodes(output);
        var ids = new Dictionary<Node, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nodes.Count; i++) ids[nodes[i]] = "n" + i.ToString(CultureInfo.InvariantCulture);

        var sb = new StringBuilder();
        sb.AppendLine("digraph backward {");
        sb.AppendLine("  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=11];");
        sb.AppendLine($"  output [label=\"output\\n{output.Shape}\", fillcolor=\"darkolivegreen1\"];");
        if (nodes.Count > 0) sb.AppendLine($"  output -> {ids[nodes[0]]} [dir=back];");
        foreach (Node node in nodes)
        {
            if (node is AccumulateGrad acc)
            {
                string label = labels.TryGetValue(acc.Variable, out string? name) ? $"{name}\\n{acc.Variable.Shape}" : acc.Variable.Shape.ToString();
                sb.AppendLine($"  {ids[node]} [label=\"AccumulateGrad\", fillcolor=\"lightgray\"];");
                sb.AppendLine($"  {ids[node]}_leaf [label=\"{Escape(label)}\", fillcolor=\"lightblue\"];");
                sb.AppendLine($"  {ids[node]}_leaf -> {ids[node]} [dir=back];");
            }
            else
            {
                sb.AppendLine($"  {ids[node]} [label=\"{Escape(node.Name)}\", fillcolor=\"lightgray\"];");
            }
            foreach (Node? next in node.Next)
                if (next is not null) sb.AppendLine($"  {ids[node]} -> {ids[next]} [dir=back];");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\"", "\\\"", StringComparison.Ordinal);
}
