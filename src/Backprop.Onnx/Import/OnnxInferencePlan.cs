namespace Backprop.Onnx.Import;

/// <summary>
/// The steps an imported graph runs for inference (evaluation mode under no-grad), with the fusions ONNX Runtime makes
/// when it loads a file: each Conv takes the BatchNormalization after it (folded into its weights,
/// <see cref="Kernels.BatchNormFold"/>), the Add of a residual and the Relu after it, as one step; and two such steps in a
/// row with a Relu between (a ResNet block's, a VGG stage's) run as one pair, their intermediate in 16-channel pixels.
/// A node joins a fused step only where it is the sole reader of the value before it and that value is no graph output,
/// so nothing the rest of the graph reads goes missing; the fused step runs where the last of its nodes ran. Every other
/// node runs as imported. Training, recording autograd, and <c>afterNode</c> callbacks run the nodes as imported.
/// </summary>
internal static class OnnxInferencePlan
{
    // One fused convolution: its steps' indices (-1: absent) and the residual the Add brings.
    private sealed record Group(int Conv, int Norm, int Add, int Relu, string Residual, string Output)
    {
        public int Last => Math.Max(Math.Max(Conv, Norm), Math.Max(Add, Relu));
    }

    public static List<OnnxModule.Step> Build(IReadOnlyList<OnnxModule.Step> steps, Func<string, Tensor?> stored, IReadOnlyCollection<string> outputs)
    {
        var readers = new Dictionary<string, List<int>>();
        for (int s = 0; s < steps.Count; s++)
            foreach (var name in steps[s].Info.Inputs)
                if (name.Length != 0) (readers.TryGetValue(name, out var list) ? list : readers[name] = []).Add(s);
        // The one step that reads value (once), where no graph output is it.
        int SoleReader(string value) =>
            !outputs.Contains(value) && readers.TryGetValue(value, out var r) && r.Count == 1 ? r[0] : -1;
        bool Is(int s, string op) => s >= 0 && steps[s].Info.OpType == op;

        // Each Conv with the BatchNormalization that alone reads it, then what alone reads the result: an Add of a residual
        // followed by a Relu, or a Relu.
        var groups = new Dictionary<int, Group>();   // by the conv's step
        for (int s = 0; s < steps.Count; s++)
        {
            if (steps[s].Convolution is null) continue;
            string value = steps[s].Info.Outputs[0];
            int norm = SoleReader(value), add = -1, relu = -1;
            string residual = "";
            if (Is(norm, "BatchNormalization") && steps[norm].Info.Inputs is { Count: 5 } n && n[0] == value && n.Skip(1).All(name => stored(name) is not null))
                value = steps[norm].Info.Outputs[0];
            else norm = -1;
            int next = SoleReader(value);
            if (Is(next, "Add") && steps[next].Info.Inputs is { Count: 2 } a && (a[0] == value) != (a[1] == value)
                && Is(SoleReader(steps[next].Info.Outputs[0]), "Relu"))
            {
                (add, residual) = (next, a[0] == value ? a[1] : a[0]);
                relu = SoleReader(steps[next].Info.Outputs[0]);
            }
            else if (Is(next, "Relu")) relu = next;
            if (relu >= 0) value = steps[relu].Info.Outputs[0];
            groups[s] = new Group(s, norm, add, relu, residual, value);
        }
        // Both branches of a residual block may reach the same Add: it goes to the convolution with more weights (a
        // block's 3x3 rather than its 1x1 shortcut: the kept-weight kernels add the residual while the output is in
        // cache), ties to the first; the other stops before the Add.
        foreach (var contest in groups.Values.Where(g => g.Add >= 0).GroupBy(g => g.Add).Where(c => c.Count() > 1).ToList())
        {
            var winner = contest.OrderByDescending(g => stored(steps[g.Conv].Info.Inputs[1])?.Length ?? 0).ThenBy(g => g.Conv).First();
            foreach (var loser in contest.Where(g => g != winner))
                groups[loser.Conv] = loser with
                {
                    Add = -1, Relu = -1, Residual = "",
                    Output = steps[loser.Norm >= 0 ? loser.Norm : loser.Conv].Info.Outputs[0],
                };
        }

        // Pairs, in graph order, each group in one at most: a group ending in a Relu (no residual) whose output only the
        // next group's convolution reads.
        var pairedAfter = new Dictionary<int, Group>();   // the second group's conv → the first group
        var paired = new HashSet<int>();
        foreach (var first in groups.Values.OrderBy(g => g.Conv))
        {
            if (paired.Contains(first.Conv) || first.Relu < 0 || first.Add >= 0) continue;
            int reader = SoleReader(first.Output);
            if (!groups.ContainsKey(reader) || paired.Contains(reader) || steps[reader].Info.Inputs[0] != first.Output) continue;
            pairedAfter[reader] = first;
            paired.UnionWith([first.Conv, reader]);
        }
        var inPairs = pairedAfter.Values.Select(g => g.Conv).ToHashSet();

        var plan = new List<OnnxModule.Step>();
        var members = groups.Values.SelectMany(g => new[] { g.Conv, g.Norm, g.Add, g.Relu }).Where(i => i >= 0).ToHashSet();
        var lastOf = groups.Values.Where(g => !inPairs.Contains(g.Conv)).ToDictionary(g => g.Last);
        for (int s = 0; s < steps.Count; s++)
        {
            if (!members.Contains(s)) plan.Add(steps[s]);
            else if (lastOf.TryGetValue(s, out var group))
                plan.Add(pairedAfter.TryGetValue(group.Conv, out var first) ? Pair(steps, first, group) : Single(steps, group));
        }
        return plan;
    }

    // Inputs of one fused convolution, in this order: x, weight, bias, the norm's scale, shift, mean, variance, residual ("" where absent).
    private static List<string> Inputs(IReadOnlyList<OnnxModule.Step> steps, Group g, bool withX = true)
    {
        var conv = steps[g.Conv].Info.Inputs;
        var list = new List<string>();
        if (withX) list.Add(conv[0]);
        list.Add(conv[1]);
        list.Add(conv.Count > 2 ? conv[2] : "");
        list.AddRange(g.Norm >= 0 ? steps[g.Norm].Info.Inputs.Skip(1) : ["", "", "", ""]);
        return list;
    }

    private static string OpType(IReadOnlyList<OnnxModule.Step> steps, Group g) =>
        string.Join("+", new[] { g.Conv, g.Norm, g.Add, g.Relu }.Where(i => i >= 0).Select(i => steps[i].Info.OpType));

    private static OnnxConvolution.Norm? Norm(OnnxInputs x, int at, OnnxModule.Step? norm) =>
        norm is null ? null : new(x[at]!, x[at + 1]!, x[at + 2]!, x[at + 3]!, norm.Epsilon!.Value);

    private static OnnxModule.Step Single(IReadOnlyList<OnnxModule.Step> steps, Group g)
    {
        var conv = steps[g.Conv].Convolution!;
        var norm = g.Norm >= 0 ? steps[g.Norm] : null;
        bool relu = g.Relu >= 0;
        var inputs = Inputs(steps, g);
        inputs.Add(g.Residual);
        var info = new OnnxNodeInfo(steps[g.Conv].Info.Name, OpType(steps, g), inputs, [g.Output]);
        return new(info, (x, _) => conv.Infer(x[0]!, x[1]!, x[2], Norm(x, 3, norm), relu, x[7]));
    }

    private static OnnxModule.Step Pair(IReadOnlyList<OnnxModule.Step> steps, Group first, Group second)
    {
        OnnxConvolution conv1 = steps[first.Conv].Convolution!, conv2 = steps[second.Conv].Convolution!;
        OnnxModule.Step? norm1 = first.Norm >= 0 ? steps[first.Norm] : null, norm2 = second.Norm >= 0 ? steps[second.Norm] : null;
        bool relu = second.Relu >= 0;
        var inputs = Inputs(steps, first);   // x, then the first's 6 and the second's 6 (its x is the first's output), residual
        inputs.AddRange(Inputs(steps, second, withX: false));
        inputs.Add(second.Residual);
        var info = new OnnxNodeInfo(steps[first.Conv].Info.Name, OpType(steps, first) + "+" + OpType(steps, second), inputs, [second.Output]);
        return new(info, (x, _) =>
        {
            Tensor? residual = x[13];
            if (OnnxConvolution.InferPair(x[0]!, conv1, x[1]!, x[2], Norm(x, 3, norm1), conv2, x[7]!, x[8], Norm(x, 9, norm2), relu, residual) is { } y)
                return y;
            var h = conv1.Infer(x[0]!, x[1]!, x[2], Norm(x, 3, norm1), relu: true, residual: null);
            y = conv2.Infer(h, x[7]!, x[8], Norm(x, 9, norm2), relu, residual);
            h.Release();
            return y;
        });
    }
}
