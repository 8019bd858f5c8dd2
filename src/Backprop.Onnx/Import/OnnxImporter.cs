using Backprop.Nn;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>
/// Imports an ONNX CNN (<see cref="SupportedOperators"/>) as a trainable <see cref="OnnxModule"/>. Every problem with
/// the file (unreadable, unsupported version or operators, undefined inputs, cycles, tensors whose sizes disagree)
/// is an <see cref="InvalidDataException"/> naming the file, raised before any weight is allocated by a declared size.
/// </summary>
public static class OnnxImporter
{
    /// <summary>The ONNX operators (default domain) the importer turns into core ops.</summary>
    public static IReadOnlySet<string> SupportedOperators { get; } =
        new HashSet<string>(OnnxOperators.All.Keys.Concat(OnnxShapeOperators.IntegerOnly).Append("Constant"));

    // (operator, input index) slots whose float initializer is running statistics (a buffer), not a weight.
    private static readonly HashSet<(string, int)> BufferSlots = [("BatchNormalization", 3), ("BatchNormalization", 4)];

    // Slots read once at import (shapes, pads, bounds, ratios): their initializers stay plain constants.
    private static readonly HashSet<(string, int)> ControlSlots =
        [("Reshape", 1), ("Pad", 1), ("Pad", 2), ("Pad", 3), ("Clip", 1), ("Clip", 2), ("Dropout", 1), ("Dropout", 2)];

    // Slots where a float operator reads integers that the graph computes on each pass (shapes, indices, axes).
    private static readonly HashSet<(string, int)> IntegerSlots =
        [("Reshape", 1), ("Gather", 1), ("Unsqueeze", 1), ("Squeeze", 1), ("Slice", 1), ("Slice", 2), ("Slice", 3), ("Slice", 4),
         ("Cast", 0), ("ConstantOfShape", 0)];

    // Inputs an operator cannot run without (the rest are optional); 1 where not listed.
    private static readonly Dictionary<string, int> RequiredInputs = new()
    {
        ["Conv"] = 2, ["ConvTranspose"] = 2, ["Gemm"] = 2, ["MatMul"] = 2, ["Add"] = 2, ["Sub"] = 2, ["Mul"] = 2, ["Div"] = 2,
        ["BatchNormalization"] = 5, ["Reshape"] = 2,
    };

    /// <summary>Reads and imports <paramref name="path"/>.</summary>
    public static OnnxModule Import(string path) => Import(OnnxModelReader.Read(path), path);

    /// <summary>Imports an already parsed model; <paramref name="path"/> names it in errors.</summary>
    public static OnnxModule Import(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        long opset = OnnxModelReader.DefaultOpset(model, path);
        var graph = model.Graph ?? throw new InvalidDataException($"{path}: the model has no graph.");
        var order = OnnxGraphValidator.Validate(graph, path, SupportedOperators);
        if (graph.Output.Count == 0) throw new InvalidDataException($"{path}: the graph has no outputs.");

        var constants = new Dictionary<string, OnnxTensorData>();
        foreach (var t in graph.Initializer) constants[t.Name] = OnnxTensorReader.Read(t, path, "initializer");
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Select(i => i.Name).Where(n => !initializerNames.Contains(n)).ToList();

        var module = new OnnxModule(path, inputs, [.. graph.Output.Select(o => o.Name)])
        {
            DeclaredInputShapes = [.. inputs.Select(n => DeclaredShape(graph.Input.First(i => i.Name == n)))],
        };
        var computedIntegers = new HashSet<string>();   // outputs of shape arithmetic that runs on each pass
        bool IsInteger(string name) => computedIntegers.Contains(name) || constants.GetValueOrDefault(name)?.Longs is not null;
        for (int i = 0; i < order.Count; i++)
        {
            var node = order[i];
            var context = new OnnxNodeContext(node, graph.Node.IndexOf(node), path, opset, name => constants.GetValueOrDefault(name), IsInteger);
            if (node.OpType == "Constant")
            {
                constants[node.Output[0]] = ConstantValue(context);
                continue;
            }
            if (node.Output.Count == 0 || node.Output[0].Length == 0) throw context.Error("it has no output.");
            int required = RequiredInputs.GetValueOrDefault(node.OpType, 1);
            for (int k = 0; k < required; k++)
                if (!context.HasInput(k)) throw context.Error($"input {k} is missing; {node.OpType} needs {required} inputs.");
            var info = new OnnxNodeInfo(node.Name, node.OpType, [.. node.Input], [.. node.Output]);
            if (OnnxShapeOperators.GivesIntegers(context, IsInteger))
            {
                var kernel = OnnxShapeOperators.Compile(context);
                if (OnnxConstantFolding.TryFold(context, initializerNames, constants, x => kernel(x)) is { } folded) constants[node.Output[0]] = folded;
                else
                {
                    computedIntegers.Add(node.Output[0]);
                    module.AddStep(new(info, null, kernel));
                }
                continue;
            }
            for (int k = 0; k < node.Input.Count; k++)
                if (computedIntegers.Contains(node.Input[k]) && !IntegerSlots.Contains((node.OpType, k)))
                    throw context.Error($"its input {k} ('{node.Input[k]}') is an integer tensor computed from shapes; {node.OpType} takes floats there.");
            var convolution = node.OpType == "Conv" ? OnnxConvOperators.Conv(context) : null;
            var run = convolution?.Kernel
                ?? (OnnxOperators.All.TryGetValue(node.OpType, out var compile) ? compile(context) : throw context.Error("it runs only on integer tensors (shapes)."));
            if (OnnxConstantFolding.Foldable.Contains(node.OpType)
                && OnnxConstantFolding.TryFold(context, initializerNames, constants, x => OnnxConstantFolding.FromTensor(run(x, false)), givesFloats: true) is { } constant)
                constants[node.Output[0]] = constant;
            else module.AddStep(new(info, run)
            {
                Convolution = convolution,
                Epsilon = node.OpType == "BatchNormalization" ? OnnxOperators.BatchNormEpsilon(context) : null,
            });
        }
        Store(graph, order, constants, module, path);
        return module;
    }

    /// <summary>Weights become parameters, running statistics buffers, the rest constants; all are looked up by ONNX name.</summary>
    private static void Store(GraphProto graph, IReadOnlyList<NodeProto> order, Dictionary<string, OnnxTensorData> constants,
        OnnxModule holder, string path)
    {
        var weights = new HashSet<string>();
        var buffers = new HashSet<string>();
        var data = new HashSet<string>();
        foreach (var node in order)
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (ControlSlots.Contains((node.OpType, i))) continue;
                data.Add(node.Input[i]);
                if (BufferSlots.Contains((node.OpType, i))) buffers.Add(node.Input[i]);
                else weights.Add(node.Input[i]);
            }
        foreach (var name in graph.Output.Select(o => o.Name)) data.Add(name);
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        foreach (var (name, value) in constants)
        {
            if (!data.Contains(name)) continue;
            if (value.Longs is not null) holder.StoreIntegers(name, value);
            var tensor = value.ToTensor();
            if (initializers.Contains(name) && value.Floats is not null && weights.Contains(name))
                holder.Store(name, Register(holder, name, path, (g, n) => g.AddParameter(n, new Parameter(tensor)), (m, n) => m.AddParameter(n, new Parameter(tensor))));
            else if (initializers.Contains(name) && value.Floats is not null && buffers.Contains(name))
                holder.Store(name, Register(holder, name, path, (g, n) => g.AddBuffer(n, tensor), (m, n) => m.AddBuffer(n, tensor)));
            else holder.Store(name, tensor);
        }
    }

    /// <summary>Registers under the dotted name's groups; a name that cannot be split that way is kept whole with '_' for '.'.</summary>
    private static Tensor Register(OnnxModule root, string name, string path, Func<OnnxParameterGroup, string, Tensor> inGroup, Func<OnnxModule, string, Tensor> atRoot)
    {
        var parts = name.Split('.');
        try
        {
            if (parts.Any(p => p.Length == 0) || parts.Length == 1) return atRoot(root, parts.Length == 1 ? name : name.Replace('.', '_'));
            var group = root.Group(parts[0]);
            for (int i = 1; i < parts.Length - 1; i++) group = group.Group(parts[i]);
            return inGroup(group, parts[^1]);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: initializer '{name}' cannot be stored under that name ({e.Message}).", e);
        }
    }

    private static int[]? DeclaredShape(ValueInfoProto input)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null) return null;
        return [.. dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue is > 0 and <= 1 << 20 ? (int)d.DimValue : 1)];
    }

    /// <summary>A Constant node's value: its tensor, or one of the value_float(s)/value_int(s) shorthands.</summary>
    private static OnnxTensorData ConstantValue(OnnxNodeContext c)
    {
        string output = c.Node.Output.Count > 0 ? c.Node.Output[0] : "";
        if (c.Attribute("value") is { T: { } t }) return OnnxTensorReader.Read(t, c.Path, $"Constant {c.Label} value");
        if (c.Attribute("value_float") is { } f) return new(output, [], [f.F], null);
        if (c.Attribute("value_floats") is { } fs) return new(output, [fs.Floats.Count], [.. fs.Floats], null);
        if (c.Attribute("value_int") is { } i) return new(output, [], null, [i.I]);
        if (c.Attribute("value_ints") is { } ints) return new(output, [ints.Ints.Count], null, [.. ints.Ints]);
        throw c.Error("its value is of a kind Backprop does not import (only tensor, float(s) and int(s) constants).");
    }
}
