using System.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Keras;

public sealed partial class Sequential
{
    // Fit's batches and Evaluate's batches each reuse the previous batch's tensor memory.
    private readonly TensorMemoryPool stepMemory = new(), evaluationMemory = new();

    // Bytes the evaluation batches' pool holds (tests).
    internal long EvaluationBytesHeld => evaluationMemory.BytesHeld;

    private sealed record CompileState(KerasOptimizer Spec, Optimizer Optimizer, string Loss, string[] MetricNames, KerasMetric[] ResolvedMetrics, bool FromLogits);

    private CompileState? compiled;

    /// <summary>True after <c>Compile</c> (adding a layer undoes it).</summary>
    public bool IsCompiled => compiled is not null;

    /// <summary>The core optimizer created by <c>Compile</c> (change its LearningRate for a schedule).</summary>
    public Optimizer Optimizer => compiled?.Optimizer ?? throw NotCompiled("Optimizer");

    /// <summary>The loss given to <c>Compile</c>, normalized.</summary>
    public string Loss => compiled?.Loss ?? throw NotCompiled("Loss");

    /// <summary>
    /// Configures training, as Keras's <c>compile</c>. <paramref name="optimizer"/>: a name from
    /// <see cref="KerasOptimizer.Names"/> (Keras's defaults) or an object (<see cref="SGD"/>, <see cref="AdamW"/>, ...,
    /// <see cref="KerasOptimizer.From"/>). <paramref name="loss"/>: a name from <see cref="Losses.Names"/>
    /// (categorical_crossentropy for one-hot y, sparse_categorical_crossentropy for class indices, hinge, huber, kld, ...).
    /// <paramref name="metrics"/>: e.g. ["accuracy", "auc"]. When the last layer ends in softmax
    /// (cross-entropies) or sigmoid (binary_crossentropy), the loss is computed from the logits in one stable step.
    /// The optimizer covers the weights trainable now: compile again after changing <see cref="Layer.Trainable"/>.
    /// </summary>
    public void Compile(KerasOptimizer optimizer, string loss, IEnumerable<string>? metrics = null) =>
        Compile(optimizer, loss, (metrics ?? []).Select(KerasMetric.FromName));

    /// <summary>Compile with metric objects (<see cref="Precision"/>, <see cref="AUC"/>, ...) and names mixed: <c>["accuracy", new AUC()]</c>.</summary>
    public void Compile(KerasOptimizer optimizer, string loss, IEnumerable<KerasMetric> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (layers.Count == 0) throw Empty();
        string lossName = Losses.Validate(loss);
        int outputWidth = OutputShape.Length;
        if (lossName is "categorical_crossentropy" or "sparse_categorical_crossentropy" && OutputShape.Rank != 1)
            throw new ArgumentException($"{lossName} needs a model that outputs (None, classes), but model '{Name}' outputs {OutputShape.WithBatch()}; add Flatten or GlobalAveragePooling2D and a Dense layer.");
        var metricList = metrics.ToArray();
        var names = metricList.Select(m => m?.Name ?? throw new ArgumentException("metrics contains null.", nameof(metrics))).ToArray();
        if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Two metrics are named '{twice.Key}'; give one a different name.", nameof(metrics));
        var resolved = metricList.Select(m => m.Resolve(lossName, outputWidth)).ToArray();
        var trainable = network.Parameters().Where(p => p.RequiresGrad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException($"Model '{Name}' has no trainable weights: every layer is frozen.");
        bool fromLogits = Losses.FusedActivation(lossName) is { } fused && layers[^1].ActivationName == fused;
        compiled = new CompileState(optimizer, optimizer.Create(trainable), lossName, names, resolved, fromLogits);
    }

    /// <inheritdoc cref="Compile(KerasOptimizer, string, IEnumerable{string}?)"/>
    public void Compile(string optimizer, string loss, IEnumerable<string>? metrics = null) =>
        Compile(KerasOptimizer.FromName(optimizer), loss, metrics);

    /// <inheritdoc cref="Compile(KerasOptimizer, string, IEnumerable{KerasMetric})"/>
    public void Compile(string optimizer, string loss, IEnumerable<KerasMetric> metrics) =>
        Compile(KerasOptimizer.FromName(optimizer), loss, metrics);

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs on x (Keras's layout: (N, height, width, channels) or (N, features))
    /// and y (one-hot or target rows, or class indices for sparse_categorical_crossentropy), in batches of
    /// <paramref name="batchSize"/>, reshuffled each epoch from the model's generator when <paramref name="shuffle"/>.
    /// <paramref name="validationSplit"/> holds out the last fraction of x and y (before shuffling), as Keras does;
    /// <paramref name="validationData"/> gives a separate set instead. Returns the per-epoch <see cref="History"/>.
    /// When <paramref name="cancellationToken"/> is cancelled, training stops at the end of the current batch as when
    /// Keras's <c>model.stop_training</c> is set: the partial epoch is validated, recorded and passed to the callbacks,
    /// <see cref="Sequential.StopTraining"/> is set, and the History so far is returned (no exception). Ctrl-C (SIGINT)
    /// or SIGTERM during Fit does the same; a second one ends the process at once.
    /// <paramref name="verbose"/> prints as Keras does to <see cref="Output"/> (the console by default): 1 a progress bar
    /// per epoch, 2 one line per epoch, 0 nothing; a <paramref name="progress"/> sink, when given, receives the records
    /// instead. <paramref name="sampleWeight"/> (one per sample) and <paramref name="classWeight"/> (class → weight,
    /// by the sample's class) multiply each sample's loss; the batch loss is then the weighted sum over the batch
    /// divided by the batch size, Keras's rule. Both together multiply.
    /// </summary>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, double validationSplit = 0,
        ValidationData? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default, float[]? sampleWeight = null,
        IReadOnlyDictionary<int, float>? classWeight = null, int verbose = 1) =>
        FitCore(x, Targets.FromTensor(y, IsSparse("Fit"), "y"), batchSize, epochs, validationSplit, validationData, shuffle, callbacks,
            Reporter(progress, verbose), cancellationToken, sampleWeight, classWeight);

    /// <summary>Fit with y as class indices (sparse_categorical_crossentropy).</summary>
    public History Fit(Tensor x, int[] y, int batchSize = 32, int epochs = 1, double validationSplit = 0,
        ValidationData? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default, float[]? sampleWeight = null,
        IReadOnlyDictionary<int, float>? classWeight = null, int verbose = 1) =>
        FitCore(x, LabelTargets(y, "Fit"), batchSize, epochs, validationSplit, validationData, shuffle, callbacks,
            Reporter(progress, verbose), cancellationToken, sampleWeight, classWeight);

    /// <summary>
    /// Loss and metrics over x and y in evaluation mode (no dropout, batch normalization's moving statistics), as Keras's
    /// <c>evaluate</c>: a list, the loss first, then the metrics in Compile's order (<c>var r = model.Evaluate(x, y); r[0]</c>).
    /// </summary>
    public IReadOnlyList<double> Evaluate(Tensor x, Tensor y, int batchSize = 32) => LossThenMetrics(EvaluateDictionary(x, y, batchSize));

    /// <summary>Evaluate with y as class indices.</summary>
    public IReadOnlyList<double> Evaluate(Tensor x, int[] y, int batchSize = 32) => LossThenMetrics(EvaluateDictionary(x, y, batchSize));

    private double[] LossThenMetrics(Dictionary<string, double> logs) => [logs["loss"], .. compiled!.MetricNames.Select(m => logs[m])];

    /// <summary>
    /// Evaluate with <c>returnDict: true</c>, as Keras's <c>return_dict=True</c>: loss and metrics keyed as Fit logs them
    /// (<c>model.Evaluate(x, y, returnDict: true)["loss"]</c>). Leave <paramref name="returnDict"/> out for the list.
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor y, bool returnDict, int batchSize = 32) =>
        returnDict ? EvaluateDictionary(x, y, batchSize) : throw ListNotDictionary();

    /// <inheritdoc cref="Evaluate(Tensor, Tensor, bool, int)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, int[] y, bool returnDict, int batchSize = 32) =>
        returnDict ? EvaluateDictionary(x, y, batchSize) : throw ListNotDictionary();

    private static ArgumentException ListNotDictionary() =>
        new("Evaluate(x, y, returnDict: false) cannot return the list; call Evaluate(x, y) without returnDict for it.", "returnDict");

    private Dictionary<string, double> EvaluateDictionary(Tensor x, Tensor y, int batchSize)
    {
        var state = compiled ?? throw NotCompiled("Evaluate");
        var xs = ToChannelsFirst(x, "Evaluate");
        return EvaluateCore(state, xs, CheckTargets(state, Targets.FromTensor(y, IsSparse("Evaluate"), "y"), xs.Shape[0], "Evaluate"), batchSize, "");
    }

    private Dictionary<string, double> EvaluateDictionary(Tensor x, int[] y, int batchSize)
    {
        var state = compiled ?? throw NotCompiled("Evaluate");
        var xs = ToChannelsFirst(x, "Evaluate");
        return EvaluateCore(state, xs, CheckTargets(state, LabelTargets(y, "Evaluate"), xs.Shape[0], "Evaluate"), batchSize, "");
    }

    /// <summary>
    /// The model's outputs for x (Keras's layout), final activation included, in evaluation mode: (N, units) for
    /// a Dense top, (N, height, width, channels) for a convolutional one. Needs no Compile.
    /// </summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        var xs = ToChannelsFirst(x, "Predict");
        int n = xs.Shape[0];
        var rows = Enumerable.Range(0, n).ToArray();
        var outputs = new List<Tensor>();
        network.Eval();
        using (Autograd.Autograd.NoGrad())
            for (int start = 0; start < n; start += batchSize)
            {
                int count = Math.Min(batchSize, n - start);
                outputs.Add(ForwardChannelsFirst(GatherRows(xs, rows, start, count), training: false, withoutFinalActivation: false));
            }
        if (outputs.Count == 0) return Tensor.Zeros([0, .. OutputShape.ToArray()]);
        var y = outputs.Count == 1 ? outputs[0] : Tensor.Concat(outputs, 0);
        return ToChannelsLast(y);
    }

    private History FitCore(Tensor x, Targets targets, int batchSize, int epochs, double validationSplit,
        ValidationData? validationData, bool shuffle, IEnumerable<Callback>? callbacks, IProgress<EpochProgress>? progress,
        CancellationToken cancellationToken, float[]? sampleWeight, IReadOnlyDictionary<int, float>? classWeight)
    {
        var state = compiled ?? throw NotCompiled("Fit");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be non-negative.");
        if (!(validationSplit >= 0 && validationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "validationSplit must be in [0, 1).");
        if (validationSplit > 0 && validationData is not null)
            throw new ArgumentException("Give validationSplit or validationData, not both.");
        var xs = ToChannelsFirst(x, "Fit");
        CheckTargets(state, targets, xs.Shape[0], "Fit");
        if (sampleWeight is not null && sampleWeight.Length != xs.Shape[0])
            throw new ArgumentException($"Fit: x has {xs.Shape[0]} samples but sampleWeight has {sampleWeight.Length} weights.");

        Tensor? xVal = null;
        Targets? yVal = null;
        int n = xs.Shape[0];
        if (validationSplit > 0)
        {
            int splitAt = (int)Math.Floor(n * (1.0 - validationSplit));
            if (splitAt == 0 || splitAt == n)
                throw new ArgumentException($"validationSplit {validationSplit} of {n} samples leaves {splitAt} for training and {n - splitAt} for validation; both need at least one.");
            xVal = xs.Slice(splitAt, n);
            yVal = targets.Range(splitAt, n);
            xs = xs.Slice(0, splitAt);
            targets = targets.Range(0, splitAt);
            sampleWeight = sampleWeight?[..splitAt];
            n = splitAt;
        }
        else if (validationData is not null)
        {
            xVal = ToChannelsFirst(validationData.X, "Fit", "validationData.X");
            yVal = CheckTargets(state, validationData.Labels is { } l ? LabelTargets(l, "Fit")
                : Targets.FromTensor(validationData.Y!, IsSparse("Fit"), "validationData.Y"), xVal.Shape[0], "Fit (validationData)");
        }
        if (n == 0) throw new ArgumentException("Fit needs at least one training sample.");

        using var parallel = TrainsDataParallel ? new ParallelFit(this, n, shuffle) : null;
        int perRank = parallel?.SamplesPerRank ?? n;
        int steps = (perRank + batchSize - 1) / batchSize;
        int[] order = [];
        FitBatch BatchAt(int epoch, int step)
        {
            if (step == 0) order = parallel?.Order(epoch) ?? (shuffle ? Generator.Permutation(n) : Enumerable.Range(0, n).ToArray());
            int start = step * batchSize, count = Math.Min(batchSize, perRank - start);
            var (yb, lb) = targets.Gather(order, start, count);
            float[]? w = null;
            if (sampleWeight is not null)
            {
                w = new float[count];
                for (int i = 0; i < count; i++) w[i] = sampleWeight[order[start + i]];
            }
            return new FitBatch(GatherRows(xs, order, start, count), yb, lb, SampleWeights(w, classWeight, yb, lb, count), count);
        }
        Func<Dictionary<string, double>>? validate = xVal is null ? null : () => EvaluateCore(state, xVal, yVal!, batchSize, "val_");
        return FitLoop(state, epochs, steps, BatchAt, validate, parallel, callbacks, progress, cancellationToken);
    }

    /// <summary>One batch of a Fit: x channels-first, the targets, the per-sample weights (null for none).</summary>
    private sealed record FitBatch(Tensor X, Tensor? Y, int[]? Labels, Tensor? Weights, int Count);

    /// <summary>The training loop shared by every kind of input: <paramref name="batchAt"/>(epoch, step) gives each batch.</summary>
    private History FitLoop(CompileState state, int epochs, int steps, Func<int, int, FitBatch> batchAt,
        Func<Dictionary<string, double>>? validate, ParallelFit? parallel, IEnumerable<Callback>? callbacks,
        IProgress<EpochProgress>? progress, CancellationToken cancellationToken)
    {
        var history = new History();
        using var interrupt = new FitInterrupt(cancellationToken);   // Ctrl-C stops after the batch, keeping the History
        var stopRequested = interrupt.Token;
        bool root = parallel is null || parallel.World.IsRoot;
        if (!root) progress = null;   // rank 0 alone reports
        var cbs = (callbacks ?? []).Where(cb => root || !cb.RootRankOnly).ToList();
        foreach (var cb in cbs) cb.Model = this;
        StopTraining = false;
        foreach (var cb in cbs) cb.OnTrainBegin();
        IReadOnlyDictionary<string, double> logs = new Dictionary<string, double>();
        StopTraining = stopRequested.IsCancellationRequested;
        int epoch = 0, step = 0;
        try
        {
            for (epoch = 0; epoch < epochs && !Agreed(parallel, StopTraining); epoch++)
            {
                foreach (var cb in cbs) cb.OnEpochBegin(epoch);
                progress?.Report(new EpochProgress(ProgressKind.EpochBegin, epoch + 1, epochs, 0, steps, TimeSpan.Zero, logs));
                var clock = Stopwatch.StartNew();
                var totals = new Accumulator(state);
                network.Train();
                int done = 0;
                for (step = 0; step < steps; step++)
                {
                    using var memory = stepMemory.Scope();   // each batch reuses the last one's activation and gradient memory
                    parallel?.BeforeBatch();
                    var batch = batchAt(epoch, step);
                    state.Optimizer.ZeroGrad(setToNone: false);   // gradients add into last batch's memory
                    var output = Flat(ForwardChannelsFirst(batch.X, training: true, state.FromLogits));
                    var loss = batch.Weights is { } weights
                        ? Losses.ComputeWeighted(state.Loss, output, batch.Y, batch.Labels, state.FromLogits, weights)
                        : Losses.Compute(state.Loss, output, batch.Y, batch.Labels, state.FromLogits);
                    float value = loss.Item();
                    if (!float.IsFinite(value))
                        throw new InvalidOperationException($"The loss became {value} at epoch {epoch + 1}, batch {step + 1} of model '{Name}'; try a lower learning rate or check the inputs for NaN.");
                    loss.Backward();
                    parallel?.AfterBackward();
                    state.Optimizer.Step();
                    totals.Add(value, batch.Count, Probabilities(state, output), batch.Y, batch.Labels);
                    var batchLogs = totals.Logs("");
                    foreach (var cb in cbs) cb.OnBatchEnd(step, batchLogs);
                    progress?.Report(new EpochProgress(ProgressKind.Batch, epoch + 1, epochs, step + 1, steps, clock.Elapsed, batchLogs));
                    done = step + 1;
                    if (Agreed(parallel, stopRequested.IsCancellationRequested))
                    {
                        StopTraining = true;   // Keras's stop_training, checked after each batch
                        break;
                    }
                }
                if (parallel is not null) totals.SumAcrossRanks(parallel.World);
                var epochLogs = new Dictionary<string, double>(totals.Logs(""));
                if (validate is not null)
                    foreach (var (key, value) in validate()) epochLogs[key] = value;
                logs = epochLogs;
                history.Append(epoch, logs);
                progress?.Report(new EpochProgress(ProgressKind.EpochEnd, epoch + 1, epochs, done, steps, clock.Elapsed, logs));
                foreach (var cb in cbs) cb.OnEpochEnd(epoch, logs);
            }
        }
        catch (Exception e) when (parallel is not null)
        {
            // The other ranks would wait for this one in the next all-reduce forever: end the whole job.
            Distributed.JobFailure.Abort(parallel.World, e, $"epoch {epoch + 1}, batch {step + 1} of Fit");
        }
        foreach (var cb in cbs) cb.OnTrainEnd(logs);
        network.Eval();
        return history;
    }

    /// <summary>The flag, or-ed over the ranks in a data-parallel Fit so that every rank stops at the same batch.</summary>
    private static bool Agreed(ParallelFit? parallel, bool flag) => parallel?.AnyRank(flag) ?? flag;

    private Dictionary<string, double> EvaluateCore(CompileState state, Tensor xs, Targets targets, int batchSize, string prefix)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        int n = xs.Shape[0];
        var rows = Enumerable.Range(0, n).ToArray();
        var totals = new Accumulator(state);
        bool wasTraining = network.IsTraining;
        network.Eval();
        using (Autograd.Autograd.NoGrad())
            for (int start = 0; start < n; start += batchSize)
            {
                using var memory = evaluationMemory.Scope();
                int count = Math.Min(batchSize, n - start);
                var output = Flat(ForwardChannelsFirst(GatherRows(xs, rows, start, count), training: false, state.FromLogits));
                var (yb, lb) = targets.Gather(rows, start, count);
                totals.Add(Losses.Compute(state.Loss, output, yb, lb, state.FromLogits).Item(), count, Probabilities(state, output), yb, lb);
            }
        network.Train(wasTraining);
        return totals.Logs(prefix);
    }

    /// <summary>Outputs as the metrics read them: the final activation applied when the loss took logits.</summary>
    private Tensor Probabilities(CompileState state, Tensor output)
    {
        using (Autograd.Autograd.NoGrad())
            return state.FromLogits ? Activations.Apply(layers[^1].ActivationName, output.Detach()) : output.Detach();
    }

    /// <summary>An output as (B, values) in Keras's order, for losses and metrics.</summary>
    private static Tensor Flat(Tensor output) => output.Rank == 2 ? output : ToChannelsLast(output).Reshape(output.Shape[0], -1);

    private bool IsSparse(string method) => (compiled ?? throw NotCompiled(method)).Loss == "sparse_categorical_crossentropy";

    private Targets LabelTargets(int[] y, string method)
    {
        var state = compiled ?? throw NotCompiled(method);
        if (state.Loss != "sparse_categorical_crossentropy")
            throw new ArgumentException($"{method}: y as class indices (int[]) needs loss sparse_categorical_crossentropy, but the model is compiled with {state.Loss}; one-hot encode y as a tensor instead.");
        return Targets.FromLabels(y, "y");
    }

    private Targets CheckTargets(CompileState state, Targets targets, int samples, string method)
    {
        if (targets.Count != samples)
            throw new ArgumentException($"{method}: x has {samples} samples but y has {targets.Count}.");
        int width = OutputShape.Length;
        if (targets.Labels is { } labels)
        {
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] < 0 || labels[i] >= width)
                    throw new ArgumentException($"{method}: y[{i}] = {labels[i]} is not a class of model '{Name}', whose output {OutputShape.WithBatch()} has classes 0 to {width - 1}.");
        }
        else if (targets.Width != width)
        {
            string hint = state.Loss == "categorical_crossentropy" ? " (one-hot encode the labels, or use sparse_categorical_crossentropy for class indices)" : "";
            throw new ArgumentException($"{method}: y has {targets.Width} values per sample, but model '{Name}' outputs {OutputShape.WithBatch()}{hint}.");
        }
        return targets;
    }

    private InvalidOperationException NotCompiled(string what) =>
        new($"{what}: model '{Name}' is not compiled; call Compile(optimizer, loss, metrics) first (again after adding layers).");

    /// <summary>Sample-weighted running mean of the loss and the metrics' running counts over an epoch or an evaluation.</summary>
    private sealed class Accumulator(CompileState state)
    {
        private double lossSum;
        private long samples;
        private readonly MetricState[] metrics = [.. state.ResolvedMetrics.Select(m => m.NewState())];

        public void Add(float loss, int count, Tensor probabilities, Tensor? y, int[]? labels)
        {
            lossSum += (double)loss * count;
            samples += count;
            foreach (var metric in metrics) metric.Update(probabilities, y, labels);
        }

        /// <summary>Replaces the counts by their totals over all ranks (every rank gets the same logs).</summary>
        public void SumAcrossRanks(Distributed.Communicator world)
        {
            double[] all = [lossSum, samples, .. metrics.SelectMany(m => m.Totals)];
            world.AllreduceSum(all);
            lossSum = all[0];
            samples = (long)all[1];
            int at = 2;
            foreach (var metric in metrics)
            {
                Array.Copy(all, at, metric.Totals, 0, metric.Totals.Length);
                at += metric.Totals.Length;
            }
        }

        public Dictionary<string, double> Logs(string prefix)
        {
            var logs = new Dictionary<string, double> { [prefix + "loss"] = samples > 0 ? lossSum / samples : double.NaN };
            for (int i = 0; i < metrics.Length; i++)
                logs[prefix + state.MetricNames[i]] = metrics[i].Result();
            return logs;
        }
    }
}
