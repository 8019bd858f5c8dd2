namespace Backprop.Nn;

/// <summary>Mean cross-entropy of logits (N, C, ...) against integer labels; see <see cref="Functional.CrossEntropy"/>.</summary>
public sealed class CrossEntropyLoss(int ignoreIndex = -100)
{
    public Tensor Forward(Tensor logits, int[] labels) => Functional.CrossEntropy(logits, labels, ignoreIndex);
}

/// <summary>Mean squared error.</summary>
public sealed class MseLoss
{
    public Tensor Forward(Tensor input, Tensor target) => Functional.MseLoss(input, target);
}

/// <summary>Caffe's EuclideanLoss: Σ (input − target)² / (2N).</summary>
public sealed class EuclideanLoss
{
    public Tensor Forward(Tensor input, Tensor target) => Functional.EuclideanLoss(input, target);
}

/// <summary>
/// Smooth L1 loss with threshold beta (mean over elements by default), optionally with py-faster-rcnn's inside and
/// outside weights; see <see cref="Functional.SmoothL1Loss(Tensor, Tensor, float, LossReduction, Tensor?, Tensor?)"/>.
/// </summary>
public sealed class SmoothL1Loss(float beta = 1f, LossReduction reduction = LossReduction.Mean)
{
    public Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, beta, reduction);

    /// <summary>The loss of weighted differences: reduce(outsideWeights·smoothL1(insideWeights·(input − target))).</summary>
    public Tensor Forward(Tensor input, Tensor target, Tensor? insideWeights, Tensor? outsideWeights) =>
        Functional.SmoothL1Loss(input, target, beta, reduction, insideWeights, outsideWeights);
}
