using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>
/// Checks an ONNX graph's structure before anything is built: every operator is one the importer knows (all the
/// unknown ones are listed in one error), every node input is defined (a graph input, an initializer or another
/// node's output; "" marks an omitted optional input), no name is produced twice, and the nodes form no cycle.
/// Returns the nodes in an order where each runs after the nodes it reads from.
/// </summary>
internal static class OnnxGraphValidator
{
    public static IReadOnlyList<NodeProto> Validate(GraphProto graph, string path, IReadOnlySet<string> supportedOps)
    {
        CheckOperators(graph, path, supportedOps);
        var defined = new HashSet<string>(graph.Input.Select(i => i.Name).Concat(graph.Initializer.Select(t => t.Name)));
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var output in graph.Node[i].Output.Where(o => o.Length > 0))
            {
                if (defined.Contains(output))
                    throw new InvalidDataException($"{path}: node {NodeLabel(graph.Node[i], i)} writes '{output}', which is already a graph input or initializer.");
                if (!producer.TryAdd(output, i))
                    throw new InvalidDataException($"{path}: '{output}' is written by two nodes, {NodeLabel(graph.Node[producer[output]], producer[output])} and {NodeLabel(graph.Node[i], i)}.");
            }
        // Kahn's algorithm: a node is ready when every node it reads from has been placed; among ready nodes the
        // file's order wins, so a sorted file keeps its order.
        var waiting = new int[graph.Node.Count];
        var readers = new List<int>[graph.Node.Count];
        for (int i = 0; i < graph.Node.Count; i++) readers[i] = [];
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var input in graph.Node[i].Input.Where(n => n.Length > 0).Distinct())
            {
                if (producer.TryGetValue(input, out int p)) { readers[p].Add(i); waiting[i]++; }
                else if (!defined.Contains(input))
                    throw new InvalidDataException($"{path}: node {NodeLabel(graph.Node[i], i)} reads '{input}', which no graph input, initializer or node defines.");
            }
        var ready = new PriorityQueue<int, int>(Enumerable.Range(0, graph.Node.Count).Where(i => waiting[i] == 0).Select(i => (i, i)));
        var order = new List<NodeProto>(graph.Node.Count);
        while (ready.Count > 0)
        {
            int i = ready.Dequeue();
            order.Add(graph.Node[i]);
            foreach (var r in readers[i])
                if (--waiting[r] == 0) ready.Enqueue(r, r);
        }
        if (order.Count < graph.Node.Count)
        {
            var stuck = Enumerable.Range(0, graph.Node.Count).Where(i => waiting[i] > 0).Select(i => NodeLabel(graph.Node[i], i));
            throw new InvalidDataException($"{path}: the graph has a cycle; these nodes wait on each other: {string.Join(", ", stuck)}.");
        }
        foreach (var output in graph.Output)
            if (!producer.ContainsKey(output.Name) && !defined.Contains(output.Name))
                throw new InvalidDataException($"{path}: graph output '{output.Name}' is produced by no node.");
        return order;
    }

    private static void CheckOperators(GraphProto graph, string path, IReadOnlySet<string> supportedOps)
    {
        var unsupported = graph.Node.Select((n, i) => (Node: n, Index: i))
            .Where(x => !(x.Node.Domain is "" or "ai.onnx") || !supportedOps.Contains(x.Node.OpType))
            .GroupBy(x => x.Node.Domain is "" or "ai.onnx" ? x.Node.OpType : $"{x.Node.Domain}.{x.Node.OpType}")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} x{g.Count()} ({string.Join(", ", g.Take(3).Select(x => NodeLabel(x.Node, x.Index, withOp: false)))}{(g.Count() > 3 ? ", ..." : "")})")
            .ToList();
        if (unsupported.Count > 0)
            throw new InvalidDataException($"{path}: {unsupported.Count} operator type(s) cannot be imported: {string.Join("; ", unsupported)}. " +
                $"Backprop imports {string.Join(", ", supportedOps.Order(StringComparer.Ordinal))}.");
    }

    /// <summary>"'name' (Conv)", or "#3 (Conv)" for a node without a name.</summary>
    public static string NodeLabel(NodeProto node, int index, bool withOp = true)
    {
        string name = node.Name.Length > 0 ? $"'{node.Name}'" : $"#{index}";
        return withOp ? $"{name} ({node.OpType})" : name;
    }
}
