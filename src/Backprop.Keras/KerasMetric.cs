namespace Backprop.Keras;

/// <summary>
/// A metric as <c>Compile</c> takes it: a Keras name (<c>"accuracy"</c>, <c>"mae"</c>, <c>"precision"</c>, <c>"auc"</c>, ...,
/// see <see cref="Metrics.Names"/>) or a configured object (<see cref="Precision"/>, <see cref="Recall"/>, <see cref="AUC"/>).
/// Like Keras's metrics, each is stateful over an epoch: Fit and Evaluate accumulate its counts batch by batch and
/// report the result over all the samples seen, not a mean of per-batch values.
/// </summary>
public abstract class KerasMetric
{
    /// <summary>The key the metric has in the logs and History ("val_" added for validation).</summary>
    public abstract string Name { get; }

    /// <summary>A metric by Keras name.</summary>
    public static implicit operator KerasMetric(string name) => FromName(name);

    /// <summary>A metric by Keras name, with Keras's defaults; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static KerasMetric FromName(string name) => Metrics.Validate(name) switch
    {
        "precision" => new Precision(),
        "recall" => new Recall(),
        "auc" => new AUC(),
        var known => new NamedMetric(known),
    };

    /// <summary>The metric as it applies to a model compiled with <paramref name="loss"/> ("accuracy" resolves by loss).</summary>
    internal virtual KerasMetric Resolve(string loss, int outputWidth) => this;

    /// <summary>Fresh running counts for one epoch or one evaluation.</summary>
    internal abstract MetricState NewState();

    /// <summary>A metric that is a mean over elements or samples (accuracies, mae, mse).</summary>
    private sealed class NamedMetric(string name, string? resolved = null) : KerasMetric
    {
        public override string Name => name;

        internal override KerasMetric Resolve(string loss, int outputWidth) => new NamedMetric(name, Metrics.Resolve(name, loss, outputWidth));

        internal override MetricState NewState() => new MeanState(resolved ?? name);
    }

    private sealed class MeanState(string resolved) : MetricState
    {
        private readonly double[] totals = new double[2];   // sum, count

        public override double[] Totals => totals;

        public override void Update(Tensor probabilities, Tensor? y, int[]? labels)
        {
            var (sum, count) = Metrics.Update(resolved, probabilities, y, labels, fromLogits: false);
            totals[0] += sum;
            totals[1] += count;
        }

        public override double Result() => totals[1] > 0 ? totals[0] / totals[1] : double.NaN;
    }
}

/// <summary>A metric's running counts over the batches of an epoch or an evaluation.</summary>
internal abstract class MetricState
{
    /// <summary>The counts, live: a data-parallel Fit sums them across ranks in place.</summary>
    public abstract double[] Totals { get; }

    /// <summary>Adds a batch: outputs as probabilities (B, C), targets as rows or class indices.</summary>
    public abstract void Update(Tensor probabilities, Tensor? y, int[]? labels);

    /// <summary>The metric over everything added so far.</summary>
    public abstract double Result();

    /// <summary>Calls <paramref name="visit"/> with each output value and whether its target is positive (non-zero, as Keras casts it).</summary>
    protected static void ForEachElement(Tensor probabilities, Tensor? y, int[]? labels, int? classId, Action<float, bool> visit)
    {
        int b = probabilities.Shape[0], c = probabilities.Length / Math.Max(b, 1);
        var p = probabilities.AsSpan().ToArray();
        var t = y?.AsSpan().ToArray();
        for (int i = 0; i < b; i++)
            for (int j = 0; j < c; j++)
            {
                if (classId is { } only && j != only) continue;
                bool positive = labels is not null ? labels[i] == j : t![i * c + j] != 0f;
                visit(p[i * c + j], positive);
            }
    }
}
