using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Keras;

/// <summary>
/// Keras's functional <c>Model(inputs, outputs)</c>: any graph of layers from one <see cref="Input"/> to one output
/// tensor (branches joined by <see cref="Add"/> or <see cref="Concatenate"/>), with the same Compile, Fit, Evaluate,
/// Predict and weights as <see cref="Sequential"/>; the training loop is Sequential's own, running the graph as one
/// layer, so a functional model and a Sequential with the same layers and seed train to the same weights.
/// Callbacks see that Sequential as their <see cref="Callback.Model"/>.
/// </summary>
public sealed partial class Model
{
    private readonly GraphLayer graph;
    private readonly Sequential trainer;

    /// <summary>
    /// The model from <paramref name="inputs"/> to <paramref name="outputs"/>: the layers <paramref name="outputs"/>
    /// depends on, in the order they were applied. Throws when the output was not computed from this input.
    /// </summary>
    public Model(KerasTensor inputs, KerasTensor outputs, string name = "model")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (inputs is not Input input)
            throw new ArgumentException($"Model '{name}': inputs must be an Input (new Input(shape)), but is the output of layer '{inputs.Layer.Name}' ({inputs.Layer.ClassName}).", nameof(inputs));
        if (outputs.Graph != input.Graph)
            throw new ArgumentException($"Model '{name}': the output of layer '{outputs.Layer.Name}' ({outputs.Layer.ClassName}) does not depend on input '{input.Layer.Name}'; it was computed from input '{outputs.Graph.Input.Layer.Name}'.", nameof(outputs));
        if (outputs == input)
            throw new ArgumentException($"Model '{name}': the output is the input '{input.Layer.Name}' itself; apply at least one layer.", nameof(outputs));
        Inputs = input;
        Outputs = outputs;
        graph = new GraphLayer(input, outputs, Upstream(input.Graph, outputs), name);
        trainer = new Sequential([graph], input.Graph.Generator, name);
    }

    /// <summary>The layers <paramref name="output"/> depends on, in call order.</summary>
    private static List<KerasTensor> Upstream(FunctionalGraph graph, KerasTensor output)
    {
        var needed = new HashSet<KerasTensor>();
        var stack = new Stack<KerasTensor>([output]);
        while (stack.TryPop(out var t))
            if (needed.Add(t))
                foreach (var i in t.Inbound) stack.Push(i);
        return [.. graph.Nodes.Where(needed.Contains)];
    }

    /// <summary>The graph run as one layer (its calls, layers and weights).</summary>
    internal GraphLayer Graph => graph;

    /// <summary>The Sequential that trains the graph.</summary>
    internal Sequential Trainer => trainer;

    /// <summary>The model's name, shown by <see cref="Summary"/>.</summary>
    public string Name => trainer.Name;

    /// <summary>The input tensor the model starts from.</summary>
    public KerasTensor Inputs { get; }

    /// <summary>The output tensor the model computes.</summary>
    public KerasTensor Outputs { get; }

    /// <summary>The generator for initial weights (the input's), shuffling and dropout.</summary>
    public Generator Generator => trainer.Generator;

    /// <summary>The layers: the <see cref="InputLayer"/>, then the rest in the order they were applied.</summary>
    public IReadOnlyList<Layer> Layers => [.. graph.Layers];

    /// <summary>The layer named <paramref name="name"/>.</summary>
    public Layer GetLayer(string name) => graph.Layers.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"Model '{Name}' has no layer named '{name}'. Layers: {string.Join(", ", graph.Layers.Select(l => l.Name))}.");

    /// <summary>The core module holding all weights under the layers' names (as <see cref="Sequential.Network"/>); its Forward takes channels-first input.</summary>
    public Module Network => graph.Module!;

    /// <summary>The sample shape the model takes (Keras's order, batch left out).</summary>
    public KerasShape InputShape => Inputs.Shape;

    /// <summary>The sample shape the model gives.</summary>
    public KerasShape OutputShape => Outputs.Shape;

    /// <summary>Set by a callback to stop Fit after the current epoch (Keras's <c>stop_training</c>).</summary>
    public bool StopTraining { get => trainer.StopTraining; set => trainer.StopTraining = value; }

    /// <inheritdoc cref="Sequential.DataParallel"/>
    public DataParallelMode DataParallel { get => trainer.DataParallel; set => trainer.DataParallel = value; }

    /// <summary>True after <see cref="Compile(KerasOptimizer, string, IEnumerable{string}?)"/>.</summary>
    public bool IsCompiled => trainer.IsCompiled;

    /// <summary>The core optimizer created by Compile.</summary>
    public Optimizer Optimizer => trainer.Optimizer;

    /// <summary>The loss given to Compile, normalized.</summary>
    public string Loss => trainer.Loss;

    /// <inheritdoc cref="Sequential.Compile(KerasOptimizer, string, IEnumerable{string}?)"/>
    public void Compile(KerasOptimizer optimizer, string loss, IEnumerable<string>? metrics = null) => trainer.Compile(optimizer, loss, metrics);

    /// <inheritdoc cref="Sequential.Compile(string, string, IEnumerable{string}?)"/>
    public void Compile(string optimizer, string loss, IEnumerable<string>? metrics = null) => trainer.Compile(optimizer, loss, metrics);

    /// <inheritdoc cref="Sequential.Fit(Tensor, Tensor, int, int, double, ValidationData?, bool, IEnumerable{Callback}?, IProgress{EpochProgress}?, CancellationToken, float[], IReadOnlyDictionary{int, float}?, int)"/>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, double validationSplit = 0,
        ValidationData? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default, float[]? sampleWeight = null,
        IReadOnlyDictionary<int, float>? classWeight = null, int verbose = 1) =>
        trainer.Fit(x, y, batchSize, epochs, validationSplit, validationData, shuffle, callbacks, progress, cancellationToken, sampleWeight, classWeight, verbose);

    /// <inheritdoc cref="Sequential.Fit(Tensor, int[], int, int, double, ValidationData?, bool, IEnumerable{Callback}?, IProgress{EpochProgress}?, CancellationToken, float[], IReadOnlyDictionary{int, float}?, int)"/>
    public History Fit(Tensor x, int[] y, int batchSize = 32, int epochs = 1, double validationSplit = 0,
        ValidationData? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default, float[]? sampleWeight = null,
        IReadOnlyDictionary<int, float>? classWeight = null, int verbose = 1) =>
        trainer.Fit(x, y, batchSize, epochs, validationSplit, validationData, shuffle, callbacks, progress, cancellationToken, sampleWeight, classWeight, verbose);

    /// <inheritdoc cref="Sequential.Fit(IBatchSource, int, int?, IBatchSource?, int?, IReadOnlyDictionary{int, float}?, IEnumerable{Callback}?, int, IProgress{EpochProgress}?, CancellationToken)"/>
    public History Fit(IBatchSource x, int epochs = 1, int? stepsPerEpoch = null, IBatchSource? validationData = null,
        int? validationSteps = null, IReadOnlyDictionary<int, float>? classWeight = null, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default) =>
        trainer.Fit(x, epochs, stepsPerEpoch, validationData, validationSteps, classWeight, callbacks, verbose, progress, cancellationToken);

    /// <summary>Where Fit prints its progress (Keras's verbose output); the console when null.</summary>
    public TextWriter? Output { get => trainer.Output; set => trainer.Output = value; }

    /// <inheritdoc cref="Sequential.Evaluate(Tensor, Tensor, int)"/>
    public IReadOnlyList<double> Evaluate(Tensor x, Tensor y, int batchSize = 32) => trainer.Evaluate(x, y, batchSize);

    /// <inheritdoc cref="Sequential.Evaluate(Tensor, int[], int)"/>
    public IReadOnlyList<double> Evaluate(Tensor x, int[] y, int batchSize = 32) => trainer.Evaluate(x, y, batchSize);

    /// <inheritdoc cref="Sequential.Evaluate(Tensor, Tensor, bool, int)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor y, bool returnDict, int batchSize = 32) => trainer.Evaluate(x, y, returnDict, batchSize);

    /// <inheritdoc cref="Sequential.Evaluate(Tensor, int[], bool, int)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, int[] y, bool returnDict, int batchSize = 32) => trainer.Evaluate(x, y, returnDict, batchSize);

    /// <inheritdoc cref="Sequential.Predict(Tensor, int)"/>
    public Tensor Predict(Tensor x, int batchSize = 32) => trainer.Predict(x, batchSize);

    /// <summary>All weights, layer by layer in call order, in Keras's layouts.</summary>
    public IReadOnlyList<Tensor> GetWeights() => graph.GetWeights();

    /// <summary>Sets all weights from Keras's layouts, in the order <see cref="GetWeights"/> gives them.</summary>
    public void SetWeights(IReadOnlyList<Tensor> weights) => graph.SetWeights(weights);

    /// <summary>Saves the weights (the core state dict of <see cref="Network"/>: <c>conv2d.weight</c>, ...) as safetensors.</summary>
    public void SaveWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Network.Save(path);
    }

    /// <summary>Loads weights saved by <see cref="SaveWeights"/>; names and shapes must match.</summary>
    public void LoadWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at '{path}'.", path);
        Network.Load(path);
    }

    /// <summary>Total weights, trainable or not.</summary>
    public long ParamCount => graph.ParamCount;

    /// <summary>Weights the optimizer updates.</summary>
    public long TrainableParamCount => graph.TrainableParamCount;

    /// <summary>Frozen weights and batch normalization's moving statistics.</summary>
    public long NonTrainableParamCount => graph.NonTrainableParamCount;

    public override string ToString() => $"Model(name={Name})";
}
