namespace Backprop.Detection;

/// <summary>
/// How <see cref="DetectionTraining.Train"/> trains a Faster R-CNN: SGD with momentum (as torchvision's and
/// py-faster-rcnn's recipes), a linear warm-up, the learning rate divided by 10 for the last quarter of the epochs,
/// random horizontal flips.
/// </summary>
public sealed record DetectionTrainingOptions
{
    public int Epochs { get; init; } = 12;
    public int BatchSize { get; init; } = 4;
    public float LearningRate { get; init; } = 0.02f;
    public float Momentum { get; init; } = 0.9f;
    public float WeightDecay { get; init; } = 1e-4f;
    public int WarmupIterations { get; init; } = 100;

    /// <summary>Fraction of the epochs after which the learning rate drops to a tenth.</summary>
    public double DecayAt { get; init; } = 0.75;
    public bool Flip { get; init; } = true;
    public ulong Seed { get; init; } = 1;
}
