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
        lastReaders = null;
        inference = null;
    }

    // Each value a node makes, by name: the index of the last step that reads it; made on the first Forward after import.
    private Dictionary<string, int>? lastReaders;

    // The fused steps inference runs (OnnxInferencePlan) and their last readers; made on the first inference forward.
    private (List<Step> Steps, Dictionary<string, int> LastReaders)? inference;

    internal void Store(string name, Tensor value) => stored[name] = value;

    internal void StoreIntegers(string name, OnnxTensorData value) => storedIntegers[name] = value;

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
    public IReadOnlyList<OnnxNodeInfo> InferenceNodes => [.. Inference().Steps.Select(s => s.Info)];

    private (List<Step> Steps, Dictionary<string, int> LastReaders) Inference()
    {
        if (inference is { } built) return built;
        var plan = OnnxInferencePlan.Build(steps, name => stored.GetValueOrDefault(name), OutputNames);
        built = (plan, LastReaders(plan));
        inference = built;
        return built;
    }

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
        var values = new Dictionary<string, Tensor>(stored);
        // Shapes and indices the graph computes from its inputs' shapes (Shape → Gather → Concat → Reshape), each run.
        var integers = new Dictionary<string, OnnxTensorData>(storedIntegers);
        foreach (var name in InputNames)
            values[name] = inputs.TryGetValue(name, out var t) ? t : throw new ArgumentException($"{Source}: input '{name}' was not given.");
        bool infer = !IsTraining && afterNode is null && !Autograd.GradMode.IsEnabled;
        var (run, lastReader) = infer ? Inference() : (steps, lastReaders ??= LastReaders(steps));
        for (int s = 0; s < run.Count; s++)
        {
            var step = run[s];
            var names = step.Info.Inputs;
            var x = new Tensor?[names.Count];
            var xi = new OnnxTensorData?[names.Count];
            for (int i = 0; i < x.Length; i++)
            {
                if (names[i].Length == 0) continue;
                x[i] = values.GetValueOrDefault(names[i]);
                xi[i] = integers.GetValueOrDefault(names[i]);
            }
            var arguments = new OnnxInputs(x, xi);
            if (step.RunIntegers is { } runIntegers)
            {
                var result = integers[step.Info.Outputs[0]] = runIntegers(arguments);
                afterNode?.Invoke(step.Info, result.ToTensor());
                ReleaseRead(step, s, lastReader, values);
                continue;
            }
            var y = values[step.Info.Outputs[0]] = step.Run!(arguments, IsTraining);
            afterNode?.Invoke(step.Info, y);
            ReleaseRead(step, s, lastReader, values);
        }
        return OutputNames.ToDictionary(n => n, n => values.TryGetValue(n, out var v) ? v : integers[n].ToTensor());
    }

    // The last step reading each value a node makes (absent when only a graph output, a stored tensor or an input).
    private Dictionary<string, int> LastReaders(List<Step> steps)
    {
        var last = new Dictionary<string, int>();
        for (int s = 0; s < steps.Count; s++)
            foreach (var name in steps[s].Info.Inputs)
                if (name.Length != 0 && !stored.ContainsKey(name) && !InputNames.Contains(name)) last[name] = s;
        foreach (var name in OutputNames) last.Remove(name);
        return last;
    }

    // Under no-grad, each value goes back to its pool after the last node that reads it has run (Tensor.Release; a no-op
    // while autograd records), as ONNX Runtime reuses a value's memory after its last reader: the next nodes' results
    // take it while it is still in the cache. A value some other live value still shares (a Reshape's view) stays.
    private static void ReleaseRead(Step step, int index, Dictionary<string, int> lastReader, Dictionary<string, Tensor> values)
    {
        foreach (var name in step.Info.Inputs)
        {
            if (name.Length == 0 || lastReader.GetValueOrDefault(name, -1) != index || !values.Remove(name, out var value)) continue;
            if (!values.Values.Any(v => v.SharesStorageWith(value))) value.Release();
        }
    }

    internal Parameter AddParameter(string name, Parameter p) => RegisterParameter(name, p);

    internal Tensor AddBuffer(string name, Tensor t) => RegisterBuffer(name, t);

    internal OnnxParameterGroup Group(string name) =>
        NamedChildren().FirstOrDefault(c => c.Key == name).Value as OnnxParameterGroup ?? RegisterModule(name, new OnnxParameterGroup());

    /// <inheritdoc/>
    public override string ToString() => $"OnnxModule({Path.GetFileName(Source)}, {steps.Count} nodes, {ParameterCount()} parameters)";
}
