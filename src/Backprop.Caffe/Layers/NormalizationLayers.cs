using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's BatchNorm: normalizes per channel with batch statistics in TRAIN and the stored ones in TEST
/// (use_global_stats). Its three blobs (mean sum, variance sum, scale factor) are statistics, not learned:
/// each TRAIN pass does s = s·f + 1, mean = mean·f + batch mean, var = var·f + unbiased batch var, with
/// f = moving_average_fraction; the stored statistics are mean/s and var/s. No affine part: a Scale layer follows.
/// </summary>
public sealed class BatchNormLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private bool useGlobal;
    private float eps, fraction;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.BatchNormParam ?? new BatchNormParameter();
        useGlobal = p.HasUseGlobalStats ? p.UseGlobalStats : !context.IsTraining;
        eps = p.Eps;
        fraction = p.MovingAverageFraction;
        var x = bottoms[0];
        if (x.Rank < 2) throw Error($"expects a bottom (N, C, ...), got {x}.");
        if (Blobs.Count == 0)
        {
            foreach (var blob in new[] { AddBlob(Tensor.Zeros(x[1])), AddBlob(Tensor.Zeros(x[1])), AddBlob(Tensor.Zeros(1)) })
                blob.RequiresGrad = false;
        }
        return [x];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        int c = x.Shape[1];
        if (useGlobal)
        {
            float s = Blobs[2].AsSpan()[0];
            float factor = s == 0 ? 0 : 1 / s;
            var mean = Blobs[0].Detach() * factor;
            var variance = Blobs[1].Detach() * factor;
            return [Functional.BatchNorm(x, mean, variance, null, null, training: false, eps: eps)];
        }
        var batchMean = Tensor.Zeros(c);
        var batchVar = Tensor.Zeros(c);
        // momentum 1 leaves the batch mean and unbiased variance in the two tensors.
        var y = Functional.BatchNorm(x, batchMean, batchVar, null, null, training: true, momentum: 1f, eps: eps);
        if (context.IsTraining)
        {
            var scale = Blobs[2].AsSpan();
            scale[0] = scale[0] * fraction + 1;
            var m = Blobs[0].AsSpan();
            var v = Blobs[1].AsSpan();
            for (int i = 0; i < c; i++)
            {
                m[i] = m[i] * fraction + batchMean.AsSpan()[i];
                v[i] = v[i] * fraction + batchVar.AsSpan()[i];
            }
        }
        return [y];
    }
}

/// <summary>
/// Caffe's LRN. ACROSS_CHANNELS: x / (k + α/n · Σ x² over n neighbouring channels)^β;
/// WITHIN_CHANNEL: x / (1 + α/n² · Σ x² over an n×n neighbourhood, zero outside the plane)^β. One fused op
/// (<see cref="Functional.LocalResponseNorm"/>).
/// </summary>
public sealed class LrnLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private LRNParameter p = new();

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        p = Definition.LrnParam ?? new LRNParameter();
        if (p.LocalSize % 2 == 0) throw Error($"local_size must be odd, got {p.LocalSize}.");
        if (bottoms[0].Rank != 4) throw Error($"expects a 4-D bottom, got {bottoms[0]}.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        // Caffe's WITHIN_CHANNEL shifts by 1 (its power layer's shift), whatever k says.
        bool within = p.NormRegion == LRNParameter.Types.NormRegion.WithinChannel;
        return [Functional.LocalResponseNorm(bottoms[0], (int)p.LocalSize, p.Alpha, p.Beta, within ? 1f : p.K, within)];
    }
}
