namespace Backprop.Onnx.Import;

/// <summary>
/// Runs a node at import when every input is already known (initializers, Constants, values folded before), so a
/// shape built only from constants is a constant again and operators that read shapes once (Pad, Clip...) still see
/// it. A float initializer is a weight: a node that reads one and gives floats is never folded, so the weight stays trainable.
/// </summary>
internal static class OnnxConstantFolding
{
    /// <summary>The float operators worth folding: those that only rearrange or convert constants.</summary>
    public static readonly IReadOnlySet<string> Foldable = new HashSet<string> { "Gather", "Unsqueeze", "Squeeze", "Slice", "Cast", "ConstantOfShape" };

    /// <summary>The node's output computed now, or null when some input is only known at run time (or is a weight the output would freeze).</summary>
    public static OnnxTensorData? TryFold(OnnxNodeContext c, IReadOnlySet<string> initializers, IReadOnlyDictionary<string, OnnxTensorData> constants,
        Func<OnnxInputs, OnnxTensorData> run, bool givesFloats = false)
    {
        var names = c.Node.Input;
        var tensors = new Tensor?[names.Count];
        var integers = new OnnxTensorData?[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i].Length == 0) continue;
            if (!constants.TryGetValue(names[i], out var value)) return null;
            if (givesFloats && value.Floats is not null && initializers.Contains(names[i])) return null;
            tensors[i] = value.ToTensor();
            if (value.Longs is not null) integers[i] = value;
        }
        try
        {
            return run(new OnnxInputs(tensors, integers)) with { Name = c.Node.Output[0] };
        }
        catch (ArgumentException e)
        {
            throw c.Error(e.InnerException is ArgumentException inner ? inner.Message : e.Message);
        }
    }

    /// <summary>A float tensor as constant data.</summary>
    public static OnnxTensorData FromTensor(Tensor t) => new("", t.Shape.ToArray(), t.ToArray(), null);
}
