using System.Diagnostics;
using System.Globalization;
using Backprop.Onnx.Import;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop time --model net.onnx</c>, in <c>caffe time</c>'s lines: each node's forward and backward time, their
/// averages and the total, for training-mode passes on random inputs of the declared shapes (a symbolic batch as 1).
/// Backward starts from the sum of the outputs, so every node with weights runs its backward.
/// </summary>
internal static class OnnxTime
{
    public static int Time(string path, int iterations, TextWriter output)
    {
        if (iterations < 1) throw new ArgumentException($"--iterations must be positive, got {iterations}.");
        var module = OnnxImporter.Import(path);
        module.Train();
        var inputs = OnnxInputs.Random(module);
        var nodes = module.Nodes;
        var index = new Dictionary<OnnxNodeInfo, int>(ReferenceEqualityComparer.Instance);
        for (int n = 0; n < nodes.Count; n++) index[nodes[n]] = n;
        var forward = new double[nodes.Count];
        var backward = new double[nodes.Count];
        double totalForward = 0, totalBackward = 0;
        var memory = new TensorMemoryPool();   // as TimeCommand: each iteration reuses the last one's buffers
        var total = new Stopwatch();
        output.WriteLine("*** Benchmark begins ***");
        output.WriteLine(Invariant($"Testing for {iterations} iterations."));
        for (int i = -1; i < iterations; i++)   // iteration -1 warms up and is not counted
        {
            if (i == 0) total.Start();
            var iteration = Stopwatch.StartNew();
            using (memory.Scope())
            {
                // A node's forward time runs from the previous node's end; its backward owns the autograd nodes it recorded.
                var lastNode = new long[nodes.Count];
                var f = Stopwatch.StartNew();
                double previous = 0;
                var outputs = module.Forward(inputs, (node, _) =>
                {
                    int n = index[node];
                    double now = f.Elapsed.TotalMilliseconds;
                    if (i >= 0) forward[n] += now - previous;
                    previous = now;
                    lastNode[n] = Autograd.Node.LatestSequenceNumber;
                });
                var top = OnnxInputs.BackwardStart(outputs);
                if (i >= 0) totalForward += f.Elapsed.TotalMilliseconds;
                if (top.RequiresGrad)
                {
                    var b = Stopwatch.StartNew();
                    Autograd.Autograd.Backward(top, onNodeRun: (node, t) =>
                    {
                        if (i < 0 || node is Autograd.AccumulateGrad) return;
                        int n = Array.FindIndex(lastNode, s => node.SequenceNumber <= s);
                        if (n >= 0) backward[n] += t.TotalMilliseconds;
                    });
                    if (i >= 0) totalBackward += b.Elapsed.TotalMilliseconds;
                    foreach (var p in module.Parameters()) p.ZeroGrad(setToNone: false);
                }
            }
            if (i >= 0) output.WriteLine(Invariant($"Iteration: {i + 1} forward-backward time: {iteration.Elapsed.TotalMilliseconds:F3} ms."));
        }
        total.Stop();
        double totalMs = total.Elapsed.TotalMilliseconds;
        output.WriteLine(Invariant($"Average time per node (ONNX graph {Path.GetFileName(path)}, inputs {string.Join(", ", inputs.Select(x => $"{x.Key} {x.Value.Shape}"))}): "));
        for (int n = 0; n < nodes.Count; n++)
        {
            string name = nodes[n].Name.Length > 0 ? nodes[n].Name : $"{nodes[n].OpType}:{nodes[n].Outputs[0]}";
            output.WriteLine(Invariant($"{name,10}\tforward: {forward[n] / iterations:F5} ms."));
            output.WriteLine(Invariant($"{name,10}\tbackward: {backward[n] / iterations:F5} ms."));
        }
        output.WriteLine(Invariant($"Average Forward pass: {totalForward / iterations:F5} ms."));
        output.WriteLine(Invariant($"Average Backward pass: {totalBackward / iterations:F5} ms."));
        output.WriteLine(Invariant($"Average Forward-Backward: {totalMs / iterations:F5} ms."));
        output.WriteLine(Invariant($"Total Time: {totalMs:F3} ms."));
        output.WriteLine("*** Benchmark ends ***");
        return 0;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
