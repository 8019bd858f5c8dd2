using Backprop.Onnx.Import;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop summary --model net.onnx</c>: one row per imported node with its output shape and the weights it reads,
/// then the steps inference fuses (<see cref="OnnxModule.InferenceNodes"/>).
/// </summary>
public static class OnnxSummary
{
    // What inference (evaluation mode under no-grad) runs in place of the nodes: the steps that fuse several of them.
    private static void PrintFusions(OnnxModule module)
    {
        var steps = module.InferenceNodes;
        var fused = steps.Where(n => n.OpType.Contains('+')).ToList();
        Console.WriteLine($"Inference (evaluation mode, no-grad) runs {steps.Count} steps for these {module.Nodes.Count} nodes" +
            (fused.Count == 0 ? "; none fused." : $", {fused.Count} of them fused as ONNX Runtime fuses them:"));
        foreach (var n in fused) Console.WriteLine($"  {Label(n)}  {n.OpType}");
    }

    // A node's name, or its first output's where the file gives none.
    private static string Label(OnnxNodeInfo n) => n.Name.Length > 0 ? n.Name : n.Outputs[0];

    /// <summary>Whether <paramref name="path"/> names an ONNX file (by its extension).</summary>
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Prints the graph of <paramref name="path"/>. Output shapes come from one forward pass on zeros of
    /// <paramref name="inputShape"/>, or of the file's declared input shape (a dynamic batch as 1).
    /// </summary>
    public static int Print(string path, IReadOnlyList<int>? inputShape = null)
    {
        var module = OnnxImporter.Import(path);
        module.Eval();
        var shapes = new Dictionary<OnnxNodeInfo, string>();
        var shape = inputShape?.ToArray() ?? (module.DeclaredInputShapes.Count == 1 ? module.DeclaredInputShapes[0] : null);
        if (shape is not null && module.InputNames.Count == 1)
            using (Autograd.Autograd.NoGrad())
                module.Forward(new Dictionary<string, Tensor> { [module.InputNames[0]] = Tensor.Zeros(shape) }, (node, y) => shapes[node] = y.Shape.ToString());
        var stored = module.StateDict();
        var rows = module.Nodes.Select(n => (Name: Label(n), n.OpType,
            Shape: shapes.GetValueOrDefault(n, "?"),
            Params: n.Inputs.Sum(i => stored.TryGetValue(i, out var t) && t is Backprop.Nn.Parameter ? (long)t.Length : 0))).ToList();
        int nameWidth = Math.Max(10, rows.Max(r => r.Name.Length) + 2), opWidth = Math.Max(6, rows.Max(r => r.OpType.Length) + 2);
        Console.WriteLine($"ONNX graph {path}: inputs {string.Join(", ", module.InputNames)}; outputs {string.Join(", ", module.OutputNames)}");
        Console.WriteLine($"{"Node".PadRight(nameWidth)}{"Op".PadRight(opWidth)}{"Output shape",-22}{"Param #",12}");
        Console.WriteLine(new string('=', nameWidth + opWidth + 34));
        foreach (var r in rows) Console.WriteLine($"{r.Name.PadRight(nameWidth)}{r.OpType.PadRight(opWidth)}{r.Shape,-22}{r.Params,12:N0}");
        Console.WriteLine(new string('=', nameWidth + opWidth + 34));
        Console.WriteLine($"Total params: {module.ParameterCount():N0} (trainable, in {module.Parameters().Count()} tensors)");
        PrintFusions(module);
        return 0;
    }
}
