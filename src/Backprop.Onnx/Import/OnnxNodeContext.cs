using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>Runs one imported node: its inputs in node order (null for omitted or compile-time-only ones) and the module's mode.</summary>
internal delegate Tensor OnnxKernel(OnnxInputs inputs, bool training);

/// <summary>
/// What an operator sees while it is compiled: the node's attributes, its constant inputs (initializers and Constant
/// outputs, read once here), the opset, and an error helper whose message names the file and the node.
/// </summary>
internal sealed class OnnxNodeContext(NodeProto node, int index, string path, long opset, Func<string, OnnxTensorData?> constant,
    Func<string, bool>? isInteger = null)
{
    public NodeProto Node => node;
    public long Opset => opset;
    public string Path => path;

    /// <summary>"'conv1' (Conv)" for messages.</summary>
    public string Label => OnnxGraphValidator.NodeLabel(node, index);

    public InvalidDataException Error(string message) => new($"{path}: node {Label}: {message}");

    public AttributeProto? Attribute(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public long Int(string name, long fallback) => Attribute(name) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Attribute(name) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Attribute(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Attribute(name) is { } a ? [.. a.Ints] : null;

    /// <summary>Whether input <paramref name="i"/> is given (present and not "").</summary>
    public bool HasInput(int i) => i < node.Input.Count && node.Input[i].Length > 0;

    /// <summary>Input <paramref name="i"/>'s value when it must be known while importing (a shape, pads, bounds); null when omitted.</summary>
    public OnnxTensorData? ConstantInput(int i, string what)
    {
        if (!HasInput(i)) return null;
        return constant(node.Input[i]) ?? throw Error($"its {what} ('{node.Input[i]}') is computed by the graph; Backprop imports it only as an initializer or Constant.");
    }

    /// <summary>Whether input <paramref name="i"/> is an integer tensor: an integer constant, or computed by shape arithmetic.</summary>
    public bool IsInteger(int i) => HasInput(i) && (isInteger?.Invoke(node.Input[i]) ?? constant(node.Input[i])?.Longs is not null);

    /// <summary>Input <paramref name="i"/>'s value when it is an initializer or Constant (or folded from them); null otherwise.</summary>
    public OnnxTensorData? KnownInput(int i) => HasInput(i) ? constant(node.Input[i]) : null;

    /// <summary>The node's int attribute as int, refusing values outside int.</summary>
    public int ToInt(long value, string what) =>
        value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Error($"{what} {value} is out of range.");

    /// <summary>Throws unless the node's extra outputs (beyond the first) are unused.</summary>
    public void SingleOutput(string what)
    {
        if (node.Output.Skip(1).Any(o => o.Length > 0)) throw Error($"its {what} output is not supported; only the first output can be imported.");
    }

    /// <summary>Runs <paramref name="run"/>, turning a shape mismatch found at run time into an error that names this node.</summary>
    public OnnxKernel Named(OnnxKernel run)
    {
        string label = $"ONNX node {Label}";
        return (inputs, training) =>
        {
            try { return run(inputs, training); }
            catch (ArgumentException e) { throw new ArgumentException($"{label}: {e.Message}", e); }
        };
    }

    /// <summary>As <see cref="Named(OnnxKernel)"/> for a kernel that gives integers.</summary>
    public OnnxIntegerKernel Named(OnnxIntegerKernel run)
    {
        string label = $"ONNX node {Label}";
        return inputs =>
        {
            try { return run(inputs); }
            catch (ArgumentException e) { throw new ArgumentException($"{label}: {e.Message}", e); }
        };
    }
}
