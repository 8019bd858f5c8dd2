using Backprop.Caffe.Proto;
using static Backprop.Caffe.Proto.LossParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's loss normalizers (LossParameter.normalization): FULL divides by every position, VALID by the positions whose
/// label is not ignore_label (all of them when no ignore_label is set), BATCH_SIZE by the outer count, NONE by 1; never
/// by less than 1.
/// </summary>
internal static class LossNormalization
{
    /// <summary>
    /// The layer's mode: normalization when given, else the deprecated normalize (true VALID, false BATCH_SIZE), else
    /// <paramref name="fallback"/> (VALID for SoftmaxWithLoss, BATCH_SIZE for SigmoidCrossEntropyLoss).
    /// </summary>
    public static NormalizationMode Mode(LossParameter? p, NormalizationMode fallback) =>
        p is null ? fallback
            : p.HasNormalization ? p.Normalization
            : p.HasNormalize ? (p.Normalize ? NormalizationMode.Valid : NormalizationMode.BatchSize)
            : fallback;

    /// <summary>ignore_label when loss_param sets one.</summary>
    public static int? IgnoreLabel(LossParameter? p) => p is not null && p.HasIgnoreLabel ? p.IgnoreLabel : null;

    /// <summary>The divisor, as Caffe's get_normalizer; <paramref name="valid"/> is null when no label is ignored.</summary>
    public static float Normalizer(NormalizationMode mode, int outer, int inner, int? valid) => Math.Max(1f, mode switch
    {
        NormalizationMode.Full => (float)outer * inner,
        NormalizationMode.Valid => valid ?? (float)outer * inner,
        NormalizationMode.BatchSize => outer,
        _ => 1f,
    });

    /// <summary>How many labels are not <paramref name="ignore"/>; null when there is no ignore_label.</summary>
    public static int? Valid(int[] labels, int? ignore) => ignore is int i ? labels.Count(l => l != i) : null;
}
