using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's ReLU, with <c>negative_slope</c> giving a leaky ReLU. Often in place (top = bottom).</summary>
public sealed class ReluLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float slope;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        slope = Definition.ReluParam?.NegativeSlope ?? 0f;
        return [bottoms[0]];
    }

    /// <summary>A plain ReLU (negative_slope 0), which the layer before may fuse (see <see cref="IFusesRelu"/>); after Setup.</summary>
    internal bool IsPlain => slope == 0;

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [slope == 0 ? Functional.Relu(bottoms[0]) : Functional.LeakyRelu(bottoms[0], slope)];
}

/// <summary>Caffe's Sigmoid.</summary>
public sealed class SigmoidLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => [bottoms[0]];
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [Functional.Sigmoid(bottoms[0])];
}

/// <summary>Caffe's TanH.</summary>
public sealed class TanhLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => [bottoms[0]];
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [Functional.Tanh(bottoms[0])];
}

/// <summary>Caffe's Dropout: in TRAIN, zeroes with probability dropout_ratio and scales the rest by 1/(1 − ratio).</summary>
public sealed class DropoutLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float ratio;
    private bool scaleTrain;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        ratio = Definition.DropoutParam?.DropoutRatio ?? 0.5f;
        scaleTrain = Definition.DropoutParam?.ScaleTrain ?? true;
        if (!(ratio >= 0 && ratio < 1)) throw Error($"dropout_ratio must be in [0, 1), got {ratio}.");
        return [bottoms[0]];
    }

    // caffe-fast-rcnn's scale_train: false moves the 1/(1 - ratio) scaling from training to a (1 - ratio) factor at test.
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        scaleTrain || ratio == 0 ? [Functional.Dropout(bottoms[0], ratio, context.IsTraining, context.RandomFor(layerIndex))]
            : [Functional.Dropout(bottoms[0], ratio, context.IsTraining, context.RandomFor(layerIndex)) * (1 - ratio)];
}
