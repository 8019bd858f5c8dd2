using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's PReLU: y = max(x, 0) + a·min(x, 0) with a learned slope a per channel (axis 1), or one slope for all
/// channels with channel_shared (then a scalar blob, as Caffe stores it). filler defaults to constant 0.25.
/// </summary>
public sealed class PreluLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.PreluParam ?? new PReLUParameter();
        var x = bottoms[0];
        if (x.Rank < 2) throw Error($"expects a bottom with at least 2 axes (N, C, ...), got {x}.");
        if (Blobs.Count == 0)
        {
            var slope = AddBlob(p.ChannelShared ? Tensor.Zeros() : Zeros(context, "slopes", x[1]));
            Fillers.Fill(slope, p.Filler ?? new FillerParameter { Type = "constant", Value = 0.25f }, filler, $"{Where} filler");
        }
        return [x];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Prelu(bottoms[0], Blobs[0])];
}

/// <summary>Caffe's ELU: y = x for x &gt; 0, alpha·(eˣ − 1) otherwise (alpha defaults to 1).</summary>
public sealed class EluLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float alpha;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        alpha = (Definition.EluParam ?? new ELUParameter()).Alpha;
        if (!float.IsFinite(alpha)) throw Error($"alpha must be finite, got {alpha}.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Elu(bottoms[0], alpha)];
}

/// <summary>Caffe's BNLL ("binomial normal log likelihood"): y = log(1 + eˣ), the softplus.</summary>
public sealed class BnllLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => [bottoms[0]];
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [Functional.Softplus(bottoms[0])];
}

/// <summary>Caffe's AbsVal: y = |x|; the gradient is sign(x)·dy, 0 at 0.</summary>
public sealed class AbsValLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => [bottoms[0]];
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [bottoms[0].Abs()];
}

/// <summary>Caffe's Swish: y = x·σ(beta·x) (beta defaults to 1).</summary>
public sealed class SwishLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float beta;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        beta = (Definition.SwishParam ?? new SwishParameter()).Beta;
        if (!float.IsFinite(beta)) throw Error($"beta must be finite, got {beta}.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0] * Functional.Sigmoid(beta == 1 ? bottoms[0] : bottoms[0] * beta)];
}

/// <summary>Caffe's Clip: y = min(max(x, min), max); the gradient passes where min ≤ x ≤ max. Both bounds are required.</summary>
public sealed class ClipLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float min, max;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ClipParam;
        if (p is null || !p.HasMin || !p.HasMax) throw Error("clip_param needs both min and max.");
        (min, max) = (p.Min, p.Max);
        if (!(min <= max)) throw Error($"min ({min}) must not exceed max ({max}).");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0].Clamp(min, max)];
}

/// <summary>
/// Caffe's Threshold: y = 1 where x &gt; threshold, else 0. Caffe implements no backward for it (NOT_IMPLEMENTED aborts
/// when a gradient reaches the layer); here too a backward pass that reaches it is an error naming the layer,
/// rather than a silent zero gradient. A Threshold whose output feeds no loss, or whose bottom needs no gradient,
/// trains fine, as in Caffe.
/// </summary>
public sealed class ThresholdLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float threshold;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        threshold = (Definition.ThresholdParam ?? new ThresholdParameter()).Threshold;
        if (float.IsNaN(threshold)) throw Error("threshold must be a number, got NaN.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.Step(bottoms[0], threshold, Where)];
}
