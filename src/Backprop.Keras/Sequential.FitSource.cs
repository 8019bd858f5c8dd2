namespace Backprop.Keras;

public sealed partial class Sequential
{
    /// <summary>Where Fit prints its progress with <c>verbose</c> 1 or 2 (null: the console, as Keras prints to stdout).</summary>
    public TextWriter? Output { get; set; }

    /// <summary>
    /// Trains on batches from <paramref name="x"/> (a generator or dataset, as Keras's <c>fit(generator)</c>), e.g.
    /// <see cref="ImageDataGenerator.FlowFromDirectory"/> or <see cref="KerasUtils.ImageDatasetFromDirectory"/>.
    /// Each epoch takes <paramref name="stepsPerEpoch"/> batches (default: one pass, <see cref="IBatchSource.BatchesPerEpoch"/>);
    /// batches continue across epochs, a new pass starting when one ends. <paramref name="validationData"/> is
    /// evaluated after each epoch over <paramref name="validationSteps"/> batches (default: one pass).
    /// <paramref name="classWeight"/>, <paramref name="callbacks"/>, <paramref name="verbose"/>, <paramref name="progress"/>
    /// and <paramref name="cancellationToken"/> are as in the tensor Fit; batches may carry sample weights.
    /// The source's background thread decodes the next batches while the current one trains.
    /// </summary>
    public History Fit(IBatchSource x, int epochs = 1, int? stepsPerEpoch = null, IBatchSource? validationData = null,
        int? validationSteps = null, IReadOnlyDictionary<int, float>? classWeight = null, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        var state = compiled ?? throw NotCompiled("Fit");
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be non-negative.");
        int steps = stepsPerEpoch ?? x.BatchesPerEpoch;
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), steps, "Fit needs at least one batch per epoch (stepsPerEpoch, or a source with batches).");
        if (validationSteps is < 1) throw new ArgumentOutOfRangeException(nameof(validationSteps), validationSteps, "validationSteps must be positive.");
        if (TrainsDataParallel)
            throw new InvalidOperationException("Fit on a batch source does not train data-parallel; set DataParallel = DataParallelMode.Never, or pass tensors.");
        var reporter = Reporter(progress, verbose);
        using var stream = new BatchStream(x);
        FitBatch BatchAt(int epoch, int step)
        {
            var batch = stream.Next();
            var xb = ToChannelsFirst(batch.X, "Fit");
            var targets = CheckTargets(state, BatchTargets(state, batch), xb.Shape[0], "Fit (batch source)");
            var (yb, lb) = targets.Gather([.. Enumerable.Range(0, targets.Count)], 0, targets.Count);
            if (batch.SampleWeights is { } sw && sw.Length != targets.Count)
                throw new ArgumentException($"Fit: a batch of {targets.Count} samples carries {sw.Length} sample weights.");
            return new FitBatch(xb, yb, lb, SampleWeights(batch.SampleWeights, classWeight, yb, lb, targets.Count), targets.Count);
        }
        Func<Dictionary<string, double>>? validate = validationData is null ? null
            : () => EvaluateSource(state, validationData, validationSteps ?? validationData.BatchesPerEpoch, "val_");
        return FitLoop(state, epochs, steps, BatchAt, validate, null, callbacks, reporter, cancellationToken);
    }

    /// <summary>Loss and metrics over <paramref name="steps"/> batches of one pass of a source, in evaluation mode.</summary>
    private Dictionary<string, double> EvaluateSource(CompileState state, IBatchSource source, int steps, string prefix)
    {
        var totals = new Accumulator(state);
        bool wasTraining = network.IsTraining;
        network.Eval();
        int taken = 0;
        using (Autograd.Autograd.NoGrad())
            foreach (var batch in source.Batches(0))
            {
                if (taken++ == steps) break;
                using var memory = evaluationMemory.Scope();
                var xb = ToChannelsFirst(batch.X, "Fit");
                var targets = CheckTargets(state, BatchTargets(state, batch), xb.Shape[0], "Fit (validation source)");
                var (yb, lb) = targets.Gather([.. Enumerable.Range(0, targets.Count)], 0, targets.Count);
                var output = Flat(ForwardChannelsFirst(xb, training: false, state.FromLogits));
                totals.Add(Losses.Compute(state.Loss, output, yb, lb, state.FromLogits).Item(), targets.Count, Probabilities(state, output), yb, lb);
            }
        network.Train(wasTraining);
        return totals.Logs(prefix);
    }

    /// <summary>A batch's targets as the compiled loss reads them: labels for the sparse loss, rows otherwise.</summary>
    private static Targets BatchTargets(CompileState state, KerasBatch batch)
    {
        bool sparse = state.Loss == "sparse_categorical_crossentropy";
        if (batch.Labels is { } labels)
            return sparse ? Targets.FromLabels(labels, "batch labels")
                : Targets.FromTensor(Tensor.FromArray(Array.ConvertAll(labels, l => (float)l), labels.Length, 1), false, "batch labels");
        return Targets.FromTensor(batch.Y ?? throw new ArgumentException("Fit: a batch has neither Y nor Labels."), sparse, "batch y");
    }

    /// <summary>
    /// The per-sample weights of a batch (null when there are none): sample weights times the weight of each
    /// sample's class (its label, the argmax of a one-hot row, or a binary target rounded).
    /// </summary>
    private static Tensor? SampleWeights(float[]? sampleWeights, IReadOnlyDictionary<int, float>? classWeight, Tensor? y, int[]? labels, int count)
    {
        if (sampleWeights is null && classWeight is null) return null;
        var w = sampleWeights is null ? Enumerable.Repeat(1f, count).ToArray() : (float[])sampleWeights.Clone();
        if (classWeight is not null)
        {
            int[] classes = labels ?? (y!.Length == count
                ? Array.ConvertAll(y.ToArray(), v => (int)MathF.Round(v))
                : y.Reshape(count, -1).ArgMax(1));
            for (int i = 0; i < count; i++)
                if (classWeight.TryGetValue(classes[i], out float cw)) w[i] *= cw;
        }
        return Tensor.FromArray(w, count);
    }

    /// <summary>The progress sink of a Fit: the caller's, or Keras's printing at <paramref name="verbose"/>.</summary>
    private IProgress<EpochProgress>? Reporter(IProgress<EpochProgress>? progress, int verbose)
    {
        if (verbose is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch).");
        if (progress is not null) return progress;
        return verbose == 0 ? null : KerasProgressFormatter.ToWriter(Output ?? Console.Out, verbose);
    }

    /// <summary>Batches from a source, pass after pass, so that epochs need not line up with passes.</summary>
    private sealed class BatchStream(IBatchSource source) : IDisposable
    {
        private IEnumerator<KerasBatch>? current;
        private int pass;

        public KerasBatch Next()
        {
            if (current is not null && current.MoveNext()) return current.Current;
            current?.Dispose();
            current = source.Batches(pass++).GetEnumerator();
            if (!current.MoveNext()) throw new InvalidOperationException($"The batch source {source} gave no batches.");
            return current.Current;
        }

        public void Dispose() => current?.Dispose();
    }
}
