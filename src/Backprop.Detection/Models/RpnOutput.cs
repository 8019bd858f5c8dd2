namespace Backprop.Detection;

/// <summary>
/// What the region proposal network gives: proposals per image (P, 4), sorted by decreasing objectness, with their
/// objectness probabilities; in training also the two losses and the anchors it sampled.
/// </summary>
public sealed class RpnOutput
{
    internal RpnOutput(IReadOnlyList<Tensor> proposals, IReadOnlyList<float[]> scores, Tensor? objectnessLoss, Tensor? boxLoss,
        IReadOnlyList<RpnSample>? samples, Tensor anchors)
    {
        Proposals = proposals;
        Scores = scores;
        ObjectnessLoss = objectnessLoss;
        BoxLoss = boxLoss;
        Samples = samples;
        Anchors = anchors;
    }

    public IReadOnlyList<Tensor> Proposals { get; }
    public IReadOnlyList<float[]> Scores { get; }

    /// <summary>Cross-entropy of object/background over the sampled anchors (training only).</summary>
    public Tensor? ObjectnessLoss { get; }

    /// <summary>Smooth-L1 of the positive anchors' deltas, divided by the number sampled (training only).</summary>
    public Tensor? BoxLoss { get; }

    /// <summary>The anchors sampled per image for the losses (training only).</summary>
    public IReadOnlyList<RpnSample>? Samples { get; }

    /// <summary>All anchors of the feature map, (H·W·k, 4), ordered by (y, x, anchor type).</summary>
    public Tensor Anchors { get; }
}

/// <summary>
/// The anchors one image contributed to the RPN losses: indices into <see cref="RpnOutput.Anchors"/>. An anchor's type
/// (which of the k shapes it is) is its index modulo k.
/// </summary>
public sealed record RpnSample(int[] Positive, int[] Negative);
