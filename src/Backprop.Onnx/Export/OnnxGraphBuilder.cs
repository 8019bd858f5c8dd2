using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Builds one ONNX graph (default domain, float32 tensors) and writes it as a model file: graph inputs and outputs with
/// a dynamic batch dimension <see cref="BatchDimension"/>, nodes with attributes, and initializers whose float data is
/// streamed from Backprop tensors at <see cref="Write"/> time (never gathered into one buffer). Value names are kept
/// unique: a name already taken gets a suffix (<c>conv1_1</c>), so callers pass the layer name they want and use the
/// name returned. Exporters for each front-end (core modules, Caffe, Keras) build on this class.
/// </summary>
/// <example>
/// <code>
/// var g = new OnnxGraphBuilder("lenet");
/// string x = g.AddInput("data", [1, 28, 28]);
/// string w = g.AddInitializer("conv1.weight", conv.Weight);
/// string y = g.AddNode("Conv", "conv1", [x, w], OnnxAttributes.Ints("kernel_shape", 5, 5));
/// g.AddOutput(y, [20, 24, 24]);
/// g.Save("lenet.onnx");
/// </code>
/// </example>
public sealed class OnnxGraphBuilder
{
    /// <summary>The symbolic name of the batch dimension (dimension 0) of every graph input and output.</summary>
    public const string BatchDimension = "N";

    /// <summary>The ONNX IR version written (8: ONNX 1.10 and later, read by every current runtime).</summary>
    public const long IrVersion = 8;

    private readonly GraphProto graph = new();
    private readonly HashSet<string> valueNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> nodeNames = new(StringComparer.Ordinal);
    private readonly List<OnnxInitializer> initializers = [];
    private readonly Dictionary<Tensor, string> tensorNames = new(ReferenceEqualityComparer.Instance);

    /// <summary>A builder for a graph named <paramref name="graphName"/> declaring operator set <paramref name="opset"/> (13 to 17).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside 13..17, the sets whose operators exporters here emit.</exception>
    public OnnxGraphBuilder(string graphName, int opset = 17)
    {
        ArgumentNullException.ThrowIfNull(graphName);
        if (opset < 13 || opset > 17)
            throw new ArgumentOutOfRangeException(nameof(opset), opset, "ONNX export writes operator sets 13 to 17 (13 for older runtimes, 17 by default).");
        graph.Name = graphName;
        Opset = opset;
    }

    /// <summary>The default-domain operator set version the model declares.</summary>
    public int Opset { get; }

    /// <summary>The nodes added so far, in order (read-only use: inspection and tests).</summary>
    public IReadOnlyList<NodeProto> Nodes => graph.Node;

    /// <summary>The graph inputs declared so far, with their shapes (batch dimension <see cref="BatchDimension"/>).</summary>
    public IReadOnlyList<ValueInfoProto> Inputs => graph.Input;

    /// <summary>The graph outputs declared so far, with their shapes.</summary>
    public IReadOnlyList<ValueInfoProto> Outputs => graph.Output;

    /// <summary>The names of the initializers added so far, in order.</summary>
    public IEnumerable<string> InitializerNames => initializers.Select(i => i.Header.Name);

    /// <summary>True when <paramref name="name"/> is already used by an input, initializer or node output.</summary>
    public bool IsValueName(string name) => valueNames.Contains(name);

    /// <summary>
    /// Reserves and returns a value name based on <paramref name="hint"/> (a layer name): the hint itself when free, else
    /// <c>hint_1</c>, <c>hint_2</c>...
    /// </summary>
    public string UniqueName(string hint) => Reserve(valueNames, string.IsNullOrEmpty(hint) ? "value" : hint);

    /// <summary>Adds a float32 graph input of shape (N, <paramref name="sampleShape"/>...) and returns its name.</summary>
    public string AddInput(string name, IReadOnlyList<int> sampleShape)
    {
        string unique = UniqueName(name);
        graph.Input.Add(ValueInfo(unique, sampleShape));
        return unique;
    }

    /// <summary>
    /// Adds a graph input of <paramref name="elementType"/> whose every dimension is given: a size or a symbolic name
    /// (no batch dimension is added). Returns its (unique) name.
    /// </summary>
    public string AddInput(string name, TensorProto.Types.DataType elementType, IReadOnlyList<OnnxDimension> shape)
    {
        string unique = UniqueName(name);
        graph.Input.Add(ValueInfo(unique, elementType, shape));
        return unique;
    }

    /// <summary>
    /// As <see cref="AddOutput(string, IReadOnlyList{int}, string?)"/> for an output of <paramref name="elementType"/>
    /// whose every dimension is given (a size or a symbolic name; no batch dimension is added).
    /// </summary>
    public string AddOutput(string value, TensorProto.Types.DataType elementType, IReadOnlyList<OnnxDimension> shape, string? outputName = null)
    {
        string name = NameOutput(value, outputName);
        graph.Output.Add(ValueInfo(name, elementType, shape));
        return name;
    }

    /// <summary>
    /// Declares <paramref name="value"/> a graph output of shape (N, <paramref name="sampleShape"/>...). With
    /// <paramref name="outputName"/> the output is given that name (made unique if taken): the node producing the value
    /// is renamed, or, when the value is a graph input, an initializer or already an output, an Identity node is added.
    /// </summary>
    /// <returns>The output's name.</returns>
    public string AddOutput(string value, IReadOnlyList<int> sampleShape, string? outputName = null)
    {
        string name = NameOutput(value, outputName);
        graph.Output.Add(ValueInfo(name, sampleShape));
        return name;
    }

    // Gives an output value its requested name (renaming its producer, or through an Identity node); returns the name.
    private string NameOutput(string value, string? outputName)
    {
        RequireValue(value);
        string name = value;
        if (outputName is not null && outputName != value)
        {
            var producer = graph.Node.LastOrDefault(n => n.Output.Contains(value));
            bool free = !valueNames.Contains(outputName);
            if (producer is not null && free && !graph.Output.Any(o => o.Name == value))
            {
                valueNames.Add(outputName);
                foreach (var node in graph.Node)
                {
                    for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == value) node.Input[i] = outputName;
                    for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == value) node.Output[i] = outputName;
                }
                valueNames.Remove(value);
                name = outputName;
            }
            else name = AddNode("Identity", outputName, [value]);
        }
        return name;
    }

    /// <summary>
    /// Adds a float32 initializer holding <paramref name="tensor"/>'s values and shape; returns its (unique) name. The
    /// values are read when the model is written, straight from the tensor's storage, so the tensor must not change
    /// in between. A tensor added twice (a weight shared by two layers) is stored once: the first name is returned.
    /// </summary>
    public string AddInitializer(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensorNames.TryGetValue(tensor, out string? existing)) return existing;
        var header = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Float };
        foreach (int d in tensor.Shape.ToArray()) header.Dims.Add(d);
        initializers.Add(new OnnxInitializer(header, tensor, null));
        tensorNames.Add(tensor, header.Name);
        return header.Name;
    }

    /// <summary>Adds a 1-D int64 initializer (shapes for Reshape, axes...) and returns its (unique) name.</summary>
    public string AddInt64Initializer(string name, IReadOnlyList<long> values)
    {
        var header = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        header.Dims.Add(values.Count);
        initializers.Add(new OnnxInitializer(header, null, values.ToArray()));
        return header.Name;
    }

    /// <summary>
    /// Adds a node with one output, named (node and output value alike) after <paramref name="name"/> made unique;
    /// returns the output's name. Inputs must be names this builder returned ("" for an omitted optional input).
    /// </summary>
    public string AddNode(string opType, string name, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        AddNode(opType, name, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs (<c>name</c>, <c>name_1</c>...); returns their names.</summary>
    public IReadOnlyList<string> AddNode(string opType, string name, IReadOnlyList<string> inputs, int outputCount,
        params AttributeProto[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        foreach (string input in inputs) if (input.Length > 0) RequireValue(input);
        var node = new NodeProto { OpType = opType, Name = Reserve(nodeNames, string.IsNullOrEmpty(name) ? opType : name) };
        node.Input.AddRange(inputs);
        for (int i = 0; i < outputCount; i++) node.Output.Add(UniqueName(string.IsNullOrEmpty(name) ? opType : name));
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return node.Output;
    }

    /// <summary>
    /// Writes the model (IR <see cref="IrVersion"/>, operator set <see cref="Opset"/>) to <paramref name="stream"/>,
    /// initializer data streamed from the tensors. The stream is left open.
    /// </summary>
    /// <exception cref="OnnxExportException">The graph has no output, or the model exceeds protobuf's 2 GB limit.</exception>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (graph.Output.Count == 0) throw new OnnxExportException($"ONNX graph '{graph.Name}' has no output: call AddOutput before writing.");
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Backprop",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        OnnxModelWriter.Write(stream, model, graph, initializers);
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically: into a temporary file beside it, renamed into place when
    /// complete, so a failed export never leaves a half-written file.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                Write(file);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private void RequireValue(string name)
    {
        if (!valueNames.Contains(name))
            throw new ArgumentException($"'{name}' is not a value of ONNX graph '{graph.Name}' (use the names AddInput, AddInitializer and AddNode return).");
    }

    private static string Reserve(HashSet<string> taken, string hint)
    {
        string name = hint;
        for (int i = 1; !taken.Add(name); i++) name = hint + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elementType, IReadOnlyList<OnnxDimension> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d.Symbol is null ? new TensorShapeProto.Types.Dimension { DimValue = d.Size } : new TensorShapeProto.Types.Dimension { DimParam = d.Symbol });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    private static ValueInfoProto ValueInfo(string name, IReadOnlyList<int> sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (int d in sampleShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
