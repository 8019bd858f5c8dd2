namespace Backprop.Keras;

/// <summary>
/// One batch for Fit from a <see cref="IBatchSource"/>: x in Keras's layout ((B, height, width, channels) or
/// (B, features)); the targets as a tensor (one-hot, binary or regression rows) or as class indices
/// (<paramref name="Labels"/>); optional per-sample weights (Keras's <c>(x, y, sample_weight)</c> triple).
/// </summary>
/// <param name="X">The inputs.</param>
/// <param name="Y">Target rows, or null when <paramref name="Labels"/> is given.</param>
/// <param name="Labels">Class indices, or null when <paramref name="Y"/> is given.</param>
/// <param name="SampleWeights">One weight per sample, or null for 1.</param>
public sealed record KerasBatch(Tensor X, Tensor? Y, int[]? Labels = null, float[]? SampleWeights = null);

/// <summary>
/// Batches for <see cref="Sequential.Fit(IBatchSource, int, int?, IBatchSource?, int?, IReadOnlyDictionary{int, float}?, IEnumerable{Callback}?, int, IProgress{EpochProgress}?, CancellationToken)"/>,
/// as Keras's <c>fit</c> takes a generator, a <c>Sequence</c> or a <c>tf.data.Dataset</c>: each call to
/// <see cref="Batches"/> is one pass over the data. <see cref="ImageDataGenerator.FlowFromDirectory"/> and
/// <see cref="KerasUtils.ImageDatasetFromDirectory"/> give sources of image files decoded on a background thread.
/// </summary>
public interface IBatchSource
{
    /// <summary>Batches in one pass (Keras's <c>len(sequence)</c>): Fit's default steps per epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>One pass over the data; <paramref name="pass"/> counts from 0 (a source may reshuffle per pass).</summary>
    IEnumerable<KerasBatch> Batches(int pass);
}
