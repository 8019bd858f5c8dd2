namespace Backprop.Autograd;

/// <summary>Entry points of the autograd engine: no-grad scopes, backward passes, and graph inspection.</summary>
public static class Autograd
{
    [ThreadStatic] private static int lastNodesRun;

    /// <summary>Stops ops on this thread from recording a backward graph until the scope is disposed:
    /// <c>using (Autograd.NoGrad()) { ... }</c>.</summary>
    public static NoGradScope NoGrad() => GradMode.Disable();

    /// <summary>Whether ops on this thread record the backward graph.</summary>
    public static bool IsGradEnabled => GradMode.IsEnabled;

    /// <summary>How many nodes (including <c>AccumulateGrad</c>) the last backward pass on this thread ran.</summary>
    public static int LastBackwardNodeCount => lastNodesRun;

    /// <summary>
    /// Backpropagates from <paramref name="output"/>. Without <paramref name="gradient"/> the output must
    /// hold one element and its gradient is 1. Returns the number of nodes run.
    /// </summary>
    /// <param name="onNodeRun">Optional: called after each node runs, with its duration (profiling).</param>
    public static int Backward(Tensor output, Tensor? gradient = null, bool retainGraph = false, Action<Node, TimeSpan>? onNodeRun = null) =>
        Backward(output, gradient, retainGraph, onNodeRun, clock: null);

    /// <summary>
    /// As <see cref="Backward(Tensor, Tensor?, bool, Action{Node, TimeSpan}?)"/>, with the clock that times each node for
    /// <paramref name="onNodeRun"/>: null for wall time, or a reading of another clock (the process's CPU time, say,
    /// which moves far less than wall time on a shared machine). The duration given is the difference of two readings.
    /// </summary>
    public static int Backward(Tensor output, Tensor? gradient, bool retainGraph, Action<Node, TimeSpan>? onNodeRun, Func<TimeSpan>? clock)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (gradient is null)
        {
            if (output.Length != 1)
                throw new InvalidOperationException(
                    $"Backward() without a gradient needs a single-element output, but the output has shape {output.Shape}; pass Backward(gradient).");
            gradient = Tensor.Ones(output.Shape.ToArray());
        }
        else if (gradient.Shape != output.Shape)
            throw new ArgumentException($"The gradient passed to Backward has shape {gradient.Shape}, but the output has shape {output.Shape}.");
        using (NoGrad())
            lastNodesRun = Engine.Run(output, gradient.Detach(), retainGraph, onNodeRun, clock);
        return lastNodesRun;
    }

    /// <summary>The nodes of the backward graph of <paramref name="output"/>, in dependency order from the output.</summary>
    public static IReadOnlyList<Node> Nodes(Tensor output)
    {
        var result = new List<Node>();
        Node? start = output.GradFn;
        if (start is null) return result;
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance) { start };
        var queue = new Queue<Node>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            Node node = queue.Dequeue();
            result.Add(node);
            foreach (Node? next in node.Next)
                if (next is not null && seen.Add(next)) queue.Enqueue(next);
        }
        return result;
    }

    /// <summary>
    /// The backward graph as Graphviz DOT, with PyTorch's node names. Leaves are labelled by
    /// <paramref name="names"/> (a module's <c>ToDot</c> passes its parameter names) where given, else by shape.
    /// Drawn as torchviz draws it: parameters at the top, the output at the bottom, PyTorch's node names with their
    /// <c>0</c> suffix. With <paramref name="showFrozen"/>, the named tensors that need no gradient (frozen
    /// parameters, which the graph does not reach) are drawn too, greyed out.
    /// </summary>
    public static string ToDot(Tensor output, IEnumerable<KeyValuePair<string, Tensor>>? names = null, bool showFrozen = false) =>
        DotWriter.Write(output, names, showFrozen);
}
