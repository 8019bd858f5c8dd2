using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// caffe-fast-rcnn's SmoothL1Loss: bottoms (prediction, target[, inside weights, outside weights]), all of one size.
/// With d = inside · (prediction − target) and σ = smooth_l1_loss_param.sigma (default 1), each element costs
/// 0.5 (σd)² where |d| &lt; 1/σ², else |d| − 0.5/σ², times its outside weight; the loss is the sum divided by the
/// prediction's first axis (the batch). <see cref="Functional.SmoothL1Loss(Tensor, Tensor, float, LossReduction, Tensor?, Tensor?)"/>
/// with β = 1/σ² computes it. Prediction and target get gradients; the weights get none.
/// </summary>
public sealed class SmoothL1LossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float beta;

    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 4);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (bottoms.Count == 3) throw Error("give both inside and outside weights (4 bottoms) or neither (2 bottoms), as the fork requires.");
        float sigma = Definition.SmoothL1LossParam?.Sigma ?? 1f;
        if (!(sigma > 0) || !float.IsFinite(sigma)) throw Error($"sigma must be positive and finite, got {sigma}.");
        beta = 1f / (sigma * sigma);
        CheckSizes(bottoms);
        return [new Shape()];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        CheckSizes(bottoms.Select(b => b.Shape).ToList());
        var prediction = bottoms[0];
        var shape = prediction.Shape.ToArray();
        // The fork compares counts only: targets and weights may come in another layout of the same size.
        Tensor Like(Tensor t) => t.Shape == prediction.Shape ? t : t.Reshape(shape);
        var sum = Functional.SmoothL1Loss(prediction, Like(bottoms[1]), beta, LossReduction.Sum,
            bottoms.Count == 4 ? Like(bottoms[2]).Detach() : null, bottoms.Count == 4 ? Like(bottoms[3]).Detach() : null);
        return [sum / Math.Max(1, shape.Length > 0 ? shape[0] : 1)];
    }

    private void CheckSizes(IReadOnlyList<Shape> bottoms)
    {
        string[] names = ["target", "inside weights", "outside weights"];
        for (int i = 1; i < bottoms.Count; i++)
            if (bottoms[i].Length != bottoms[0].Length)
                throw Error($"the {names[i - 1]} {bottoms[i]} differ in size from the prediction {bottoms[0]}.");
    }
}
