namespace Backprop.Keras;

/// <summary>Which moment of training an <see cref="EpochProgress"/> reports.</summary>
public enum ProgressKind
{
    /// <summary>An epoch starts (Keras prints <c>Epoch 1/10</c>).</summary>
    EpochBegin,

    /// <summary>A training batch is done; <see cref="EpochProgress.Logs"/> holds the epoch's running averages.</summary>
    Batch,

    /// <summary>The epoch is done, validation included; the logs are final.</summary>
    EpochEnd,
}

/// <summary>
/// Progress of Fit, reported through <see cref="IProgress{T}"/>: the library prints nothing;
/// <see cref="KerasProgressFormatter"/> turns these records into Keras's lines.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Epoch">The epoch, from 1 (as Keras prints it).</param>
/// <param name="Epochs">Epochs asked for.</param>
/// <param name="Step">Batches done in this epoch.</param>
/// <param name="Steps">Batches per epoch.</param>
/// <param name="Elapsed">Time since the epoch began.</param>
/// <param name="Logs">loss and metrics so far (val_ ones at the epoch's end), by Keras name.</param>
public sealed record EpochProgress(ProgressKind Kind, int Epoch, int Epochs, int Step, int Steps, TimeSpan Elapsed,
    IReadOnlyDictionary<string, double> Logs);
