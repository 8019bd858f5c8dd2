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

/// <summary>Smooth L1 loss with threshold beta, mean over elements.</summary>
public sealed class SmoothL1Loss(float beta = 1f)
{
    public Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, beta);
}
