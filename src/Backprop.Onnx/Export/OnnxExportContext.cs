using Backprop.Nn;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// What a module being exported sees (<see cref="IOnnxExportable"/>): the graph, the module and its path in the
/// network (<c>blocks.2</c>), a way to export its children, and helpers that add nodes named after that path.
/// </summary>
public sealed class OnnxExportContext
{
    internal OnnxExportContext(OnnxGraphBuilder graph, Module module, string path)
    {
        Graph = graph;
        Module = module;
        Path = path;
    }

    /// <summary>The graph being built.</summary>
    public OnnxGraphBuilder Graph { get; }

    /// <summary>The module being exported.</summary>
    public Module Module { get; }

    /// <summary>The module's dotted path in the network, as in <see cref="Module.NamedModules"/> ("" for the root).</summary>
    public string Path { get; }

    /// <summary>
    /// Exports <paramref name="child"/>, a direct child of <see cref="Module"/>, applied to <paramref name="input"/>;
    /// its nodes and initializers are named after its path (<c>blocks.2.conv1</c>, <c>blocks.2.conv1.weight</c>).
    /// </summary>
    /// <exception cref="OnnxExportException">The child (or something inside it) cannot be exported.</exception>
    public OnnxValue Export(Module child, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(child);
        foreach (var (name, registered) in Module.NamedChildren())
            if (ReferenceEquals(registered, child))
                return CoreModuleExport.Export(new OnnxExportContext(Graph, child, Join(Path, name)), input);
        throw new ArgumentException($"{child.GetType().Name} is not a registered child of '{Path}' ({Module.GetType().Name}): register it with RegisterModule to export it.");
    }

    /// <summary>Element-wise <paramref name="a"/> + <paramref name="b"/> (an Add node); both must have the same shape.</summary>
    public OnnxValue Add(OnnxValue a, OnnxValue b)
    {
        if (!a.SampleShape.AsSpan().SequenceEqual(b.SampleShape))
            throw Unsupported($"Add of shapes {Describe(a.SampleShape)} and {Describe(b.SampleShape)}: they must be equal.");
        return Node("Add", "add", [a, b], a.SampleShape);
    }

    /// <summary>max(x, 0) (a Relu node).</summary>
    public OnnxValue Relu(OnnxValue x) => Node("Relu", "relu", [x], x.SampleShape);

    /// <summary>
    /// Adds a node of <paramref name="opType"/> named <c>path.localName</c> (or the path alone when
    /// <paramref name="localName"/> is empty) whose output has <paramref name="outputSampleShape"/> after the batch.
    /// </summary>
    public OnnxValue Node(string opType, string localName, IReadOnlyList<OnnxValue> inputs, int[] outputSampleShape,
        params AttributeProto[] attributes) =>
        Node(opType, localName, inputs.Select(i => i.Name).ToArray(), outputSampleShape, attributes);

    /// <summary>As <see cref="Node(string, string, IReadOnlyList{OnnxValue}, int[], AttributeProto[])"/> with inputs given by name (initializers).</summary>
    public OnnxValue Node(string opType, string localName, IReadOnlyList<string> inputs, int[] outputSampleShape,
        params AttributeProto[] attributes)
    {
        string name = Join(Path, localName);
        if (name.Length == 0) name = opType;
        return new OnnxValue(Graph.AddNode(opType, name, inputs, attributes), outputSampleShape);
    }

    /// <summary>Adds <paramref name="tensor"/> as an initializer named <c>path.localName</c> (<c>conv1.weight</c>); returns its name.</summary>
    public string Initializer(string localName, Tensor tensor) => Graph.AddInitializer(Join(Path, localName), tensor);

    /// <summary>An <see cref="OnnxExportException"/> naming this module's path and type, for the caller to throw.</summary>
    public OnnxExportException Unsupported(string problem) => new(Path, Module.GetType().Name, problem);

    internal static string Describe(int[] sampleShape) => "(N, " + string.Join(", ", sampleShape) + ")";

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : name.Length == 0 ? prefix : prefix + "." + name;
}
