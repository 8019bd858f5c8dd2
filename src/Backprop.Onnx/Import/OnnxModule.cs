using Backprop.Nn;

namespace Backprop.Onnx.Import;

/// <summary>One imported node as <c>summary</c> shows it.</summary>
/// <param name="Name">The node's name ("" when the file gives none).</param>
/// <param name="OpType">The ONNX operator, e.g. "Conv".</param>
/// <param name="Inputs">Names of the values it reads.</param>
/// <param name="Outputs">Names of the values it writes.</param>
public sealed record OnnxNodeInfo(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// An ONNX graph imported as a Backprop module (<see cref="OnnxImporter.Import(string)"/>): <see cref="Forward(Tensor)"/> runs
/// the nodes in order with core ops, so autograd gives the backward pass. Weight initializers are trainable
/// <see cref="Parameter"/>s named after them (feed <see cref="Module.Parameters"/> to an optimizer to fine-tune);
/// BatchNormalization statistics are buffers; shapes and Constant outputs stay constants. In training mode
/// BatchNormalization uses batch statistics and Dropout drops, as the matching core modules do. Under
/// <see cref="Autograd.Autograd.NoGrad"/> in a <see cref="TensorMemoryPool"/> scope, each intermediate value's memory goes
/// back to the pool after the last node that reads it (<see cref="Tensor.Release"/>).
/// </summary>
public sealed class OnnxModule : Module
{
    /// <summary>One node to run: <see cref="Run"/> gives a float tensor, <see cref="RunIntegers"/> (when set) an integer one.</summary>
    internal sealed record Step(OnnxNodeInfo Info, OnnxKernel? Run, OnnxIntegerKernel? RunIntegers = null)
    {
        /// <summary>A Conv node's window and kept weights, which the inference plan fuses with the nodes after it.</summary>
        public OnnxConvolution? Convolution { get; init; }

        /// <summary>A BatchNormalization node's epsilon, for the inference plan's fold.</summary>
        public float? Epsilon { get; init; }
    }

    private readonly List<Step> steps = [];
    private readonly Dictionary<string, Tensor> stored = [];   // parameters, buffers and constants by ONNX name
    private readonly Dictionary<string, OnnxTensorData> storedIntegers = [];   // integer constants (shapes, indices) by ONNX name

    internal OnnxModule(string source, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        Source = source;
        InputNames = inputs;
        OutputNames = outputs;
    }

    internal void AddStep(Step step)
    {
        steps.Add(step);
        programs = default;
    }

    // The nodes, and the inference plan (OnnxInferencePlan), with their value names turned into slots; made on first use.
    private (OnnxProgram? Nodes, OnnxProgram? Inference) programs;

    internal void Store(string name, Tensor value)
    {
        stored[name] = value;
        programs = default;
    }

    internal void StoreIntegers(string name, OnnxTensorData value)
    {
        storedIntegers[name] = value;
        programs = default;
    }

    /// <summary>The file the module was imported from.</summary>
    public string Source { get; }

    /// <summary>The graph inputs that the caller supplies (initializers excluded).</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The graph outputs, in the file's order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Each input's shape as the file declares it, symbolic dimensions (a dynamic batch) as 1; null where the file gives none.</summary>
    public IReadOnlyList<int[]?> DeclaredInputShapes { get; internal init; } = [];

    /// <summary>The nodes in the order they run.</summary>
    public IReadOnlyList<OnnxNodeInfo> Nodes => [.. steps.Select(s => s.Info)];

    /// <summary>
    /// The steps <see cref="Forward(Tensor)"/> runs in evaluation mode under <see cref="Autograd.Autograd.NoGrad"/>, as ONNX
    /// Runtime fuses a graph at load: each Conv with the BatchNormalization after it folded into its weights, and the Add
    /// of a residual and the Relu after it (OpType "Conv+BatchNormalization+Add+Relu"); two such steps with a Relu between
    /// run as one (their OpTypes joined by "+"), the intermediate never written as planes; every other node as imported.
    /// The folded weights are kept with the convolution's kept transform and made again when the weights or the
    /// BatchNorm's statistics change, so the outputs follow the parameters as they are now. They equal the unfused nodes'
    /// up to float rounding (the fold reorders products). Training, autograd, and the <c>afterNode</c> overload run <see cref="Nodes"/>.
    /// </summary>
    public IReadOnlyList<OnnxNodeInfo> InferenceNodes => [.. InferenceProgram().Steps.Select(s => s.Info)];

    private OnnxProgram InferenceProgram() => programs.Inference ??=
        new(OnnxInferencePlan.Build(steps, name => stored.GetValueOrDefault(name), OutputNames), stored, storedIntegers, InputNames, OutputNames);

    private OnnxProgram NodesProgram() => programs.Nodes ??= new(steps, stored, storedIntegers, InputNames, OutputNames);

    /// <summary>Runs the graph on its single input and returns its first output.</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (InputNames.Count != 1)
            throw new ArgumentException($"{Source} has {InputNames.Count} inputs ({string.Join(", ", InputNames)}); pass them by name to Forward(IReadOnlyDictionary).");
        return Forward(new Dictionary<string, Tensor> { [InputNames[0]] = input })[OutputNames[0]];
    }

    /// <summary>Runs the graph on named inputs and returns every graph output by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Forward(IReadOnlyDictionary<string, Tensor> inputs) => Forward(inputs, null);

    /// <summary>As <see cref="Forward(IReadOnlyDictionary{string, Tensor})"/>, calling <paramref name="afterNode"/> with each node's output (for summaries).</summary>
    public IReadOnlyDictionary<string, Tensor> Forward(IReadOnlyDictionary<string, Tensor> inputs, Action<OnnxNodeInfo, Tensor>? afterNode)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        bool infer = !IsTraining && afterNode is null && !Autograd.GradMode.IsEnabled;
        var program = infer ? InferenceProgram() : NodesProgram();
        var values = (Tensor?[])program.Tensors.Clone();   // the stored tensors, then what this pass makes
        // Shapes and indices the graph computes from its inputs' shapes (Shape → Gather → Concat → Reshape), each run.
        var integers = (OnnxTensorData?[])program.Integers.Clone();
        for (int i = 0; i < InputNames.Count; i++)
            values[program.Inputs[i]] = inputs.TryGetValue(InputNames[i], out var t) ? t : throw new ArgumentException($"{Source}: input '{InputNames[i]}' was not given.");
        for (int s = 0; s < program.Steps.Count; s++)
        {
            var step = program.Steps[s];
            var slots = program.InputSlots[s];
            var x = new Tensor?[slots.Length];
            var xi = new OnnxTensorData?[slots.Length];
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i] < 0) continue;
                x[i] = values[slots[i]];
                xi[i] = integers[slots[i]];
            }
            var arguments = new OnnxInputs(x, xi);
            if (step.RunIntegers is { } runIntegers)
            {
                var result = integers[program.OutputSlot[s]] = runIntegers(arguments);
                afterNode?.Invoke(step.Info, result.ToTensor());
            }
            else
            {
                var y = values[program.OutputSlot[s]] = step.Run!(arguments, IsTraining);
                afterNode?.Invoke(step.Info, y);
            }
            ReleaseRead(program, s, values);
        }
        var outputs = new Dictionary<string, Tensor>();
        for (int i = 0; i < OutputNames.Count; i++)
            outputs[OutputNames[i]] = values[program.Outputs[i]] ?? integers[program.Outputs[i]]!.ToTensor();
        return outputs;
    }

    // Under no-grad, each value goes back to its pool after the last node that reads it has run (Tensor.Release; a no-op
    // while autograd records), as ONNX Runtime reuses a value's memory after its last reader: the next nodes' results
    // take it while it is still in the cache. A value another value of this pass still shares (a Reshape's view) stays.
    private static void ReleaseRead(OnnxProgram program, int step, Tensor?[] values)
    {
        foreach (int slot in program.ReleaseAfter[step])
        {
            if (values[slot] is not { } value) continue;
            values[slot] = null;
            bool shared = false;
            foreach (int live in program.Live) shared |= values[live]?.SharesStorageWith(value) == true;
            if (!shared) value.Release();
        }
    }

    internal Parameter AddParameter(string name, Parameter p) => RegisterParameter(name, p);

    internal Tensor AddBuffer(string name, Tensor t) => RegisterBuffer(name, t);

    internal OnnxParameterGroup Group(string name) =>
        NamedChildren().FirstOrDefault(c => c.Key == name).Value as OnnxParameterGroup ?? RegisterModule(name, new OnnxParameterGroup());

    /// <inheritdoc/>
    public override string ToString() => $"OnnxModule({Path.GetFileName(Source)}, {steps.Count} nodes, {ParameterCount()} parameters)";
}
