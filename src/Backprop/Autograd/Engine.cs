namespace Backprop.Autograd;

/// <summary>
/// Runs a backward pass: an iterative walk of the recorded graph in dependency order. Only nodes
/// reachable from the output are visited, and the graph only holds nodes whose inputs need a
/// gradient, so frozen parts of a network cost nothing here.
/// </summary>
internal static class Engine
{
    /// <summary>Backpropagates <paramref name="gradOutput"/> from <paramref name="root"/>; returns the number of nodes run.
    /// <paramref name="onNodeRun"/>, when given, hears how long each node took (for per-layer timing), by
    /// <paramref name="clock"/> (null: wall time).</summary>
    public static int Run(Tensor root, Tensor gradOutput, bool retainGraph, Action<Node, TimeSpan>? onNodeRun = null, Func<TimeSpan>? clock = null)
    {
        Node? start = root.GradFn ?? root.GradAccumulator();
        if (start is null)
            throw new InvalidOperationException(
                $"Backward() called on a tensor of shape {root.Shape} that does not require a gradient and has no GradFn: " +
                "no parameter it was computed from requires a gradient (were they all frozen, or was it computed under Autograd.NoGrad()?).");

        // Count, for every reachable node, how many edges lead into it.
        var pending = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance) { [start] = 0 };
        var stack = new Stack<Node>();
        stack.Push(start);
        int largestGradient = 0;
        while (stack.Count > 0)
        {
            Node node = stack.Pop();
            if (node is FunctionNode f) largestGradient = Math.Max(largestGradient, f.OutputLength);
            foreach (Node? next in node.Next)
            {
                if (next is null) continue;
                if (pending.TryGetValue(next, out int n)) pending[next] = n + 1;
                else { pending[next] = 1; stack.Push(next); }
            }
        }

        // Run nodes whose every consumer has run, accumulating gradients per node.
        var gradients = new Dictionary<Node, Tensor>(ReferenceEqualityComparer.Instance) { [start] = gradOutput };
        var memory = retainGraph ? null : GradientMemory.Begin(gradOutput, largestGradient);
        int ran = 0;
        try
        {
            var ready = new Stack<Node>();
            ready.Push(start);
            while (ready.Count > 0)
            {
                Node node = ready.Pop();
                Tensor?[] inputGrads = [];
                if (gradients.Remove(node, out Tensor? grad))
                {
                    memory?.Consumed(grad);
                    TimeSpan began = onNodeRun is null ? default : Now(clock);
                    inputGrads = node.Apply(grad);
                    onNodeRun?.Invoke(node, Now(clock) - began);
                    ran++;
                    memory?.GiveBackDead(inputGrads);   // before the sums below, which may reuse the incoming gradient's buffer
                }
                else if (node is AccumulateGrad leaf) leaf.CompletedWithoutGradient();
                if (!retainGraph) node.Release();
                for (int i = 0; i < node.Next.Count; i++)
                {
                    Node? next = node.Next[i];
                    if (next is null) continue;
                    Tensor? g = i < inputGrads.Length ? inputGrads[i] : null;
                    if (g is not null)
                    {
                        Tensor? sum = g;
                        if (gradients.TryGetValue(next, out Tensor? acc))
                        {
                            if (memory is not null && memory.OwnsAlone(acc, inputGrads))
                            {
                                // acc's buffer is the engine's alone: add g into it (the same bits as a new sum) rather
                                // than into a third buffer, and let g's go; acc stays filed, held once. A ResNet block's
                                // input gradient: megabytes each, so one buffer less to bring into cache.
                                Tensor.AddIntoDetached(acc, g);
                                memory.Dropped(g);
                                sum = null;
                            }
                            else
                            {
                                sum = Tensor.AddDetached(acc, g);
                                memory?.Consumed(acc);
                                memory?.Dropped(g);
                            }
                        }
                        if (sum is not null)
                        {
                            gradients[next] = sum;
                            memory?.Held(sum);
                        }
                    }
                    if (--pending[next] == 0) ready.Push(next);
                }
                memory?.GiveBackDead();
            }
        }
        finally
        {
            memory?.End();   // also when a node throws: later forward ops get exact buffers again
        }
        return ran;
    }

    private static TimeSpan Now(Func<TimeSpan>? clock) =>
        clock?.Invoke() ?? System.Diagnostics.Stopwatch.GetElapsedTime(0, System.Diagnostics.Stopwatch.GetTimestamp());
}
