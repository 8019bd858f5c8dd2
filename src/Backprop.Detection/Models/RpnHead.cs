using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// The region proposal network's head, as in the Faster R-CNN paper: a 3x3 convolution and ReLU over the feature map,
/// then two sibling 1x1 convolutions — 2k objectness scores (background and object for each of the k anchors) and 4k box
/// deltas — at every position. It is one network for all k anchor types: each output channel belongs to one anchor
/// type, and training touches whichever types the sampled anchors happen to have.
/// Channel layout as py-faster-rcnn's rpn_cls_score / rpn_bbox_pred: scores channel c·k + a (c = 0 background,
/// 1 object), deltas channel 4·a + j (j = dx, dy, dw, dh). Weights start from N(0, 0.01²), biases 0.
/// </summary>
public sealed class RpnHead : Module
{
    public RpnHead(int inChannels, int anchorsPerLocation, int hiddenChannels, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        AnchorsPerLocation = anchorsPerLocation;
        Conv = RegisterModule("conv", Gaussian(new Conv2d(inChannels, hiddenChannels, 3, padding: 1, generator: g), g));
        Scores = RegisterModule("cls_score", Gaussian(new Conv2d(hiddenChannels, 2 * anchorsPerLocation, 1, generator: g), g));
        Deltas = RegisterModule("bbox_pred", Gaussian(new Conv2d(hiddenChannels, 4 * anchorsPerLocation, 1, generator: g), g));
    }

    public int AnchorsPerLocation { get; }
    public Conv2d Conv { get; }
    public Conv2d Scores { get; }
    public Conv2d Deltas { get; }

    /// <summary>Objectness logits (N, 2k, H, W) and box deltas (N, 4k, H, W).</summary>
    public (Tensor Scores, Tensor Deltas) Predict(Tensor features)
    {
        var hidden = Functional.Relu(Conv.Forward(features));
        return (Scores.Forward(hidden), Deltas.Forward(hidden));
    }

    /// <summary>Both outputs joined on the channel axis: (N, 2k + 4k, H, W).</summary>
    public override Tensor Forward(Tensor input)
    {
        var (scores, deltas) = Predict(input);
        return Tensor.Concat([scores, deltas], axis: 1);
    }

    private static Conv2d Gaussian(Conv2d conv, Generator g)
    {
        Init.Gaussian(conv.Weight, 0f, 0.01f, g);
        Init.Constant(conv.Bias!, 0f);
        return conv;
    }
}
