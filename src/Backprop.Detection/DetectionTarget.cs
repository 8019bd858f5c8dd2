namespace Backprop.Detection;

/// <summary>
/// The ground truth of one image: boxes (G, 4) as (x1, y1, x2, y2) in pixels of the image as the network sees it,
/// a class label per box (1..C; 0 is background), and VOC's "difficult" flag per box (such boxes are neither
/// required nor penalised when scoring).
/// </summary>
public sealed class DetectionTarget
{
    public DetectionTarget(Tensor boxes, int[] labels, bool[]? difficult = null)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(labels);
        if (boxes.Rank != 2 || boxes.Shape[1] != 4)
            throw new ArgumentException($"DetectionTarget boxes must have shape (G, 4), got {boxes.Shape}.");
        if (labels.Length != boxes.Shape[0])
            throw new ArgumentException($"DetectionTarget has {boxes.Shape[0]} boxes but {labels.Length} labels.");
        if (difficult is not null && difficult.Length != labels.Length)
            throw new ArgumentException($"DetectionTarget has {labels.Length} boxes but {difficult.Length} difficult flags.");
        Boxes = boxes;
        Labels = labels;
        Difficult = difficult ?? new bool[labels.Length];
    }

    /// <summary>(G, 4) boxes, x1 y1 x2 y2.</summary>
    public Tensor Boxes { get; }

    /// <summary>Class per box, 1..C.</summary>
    public int[] Labels { get; }

    /// <summary>VOC's difficult flag per box.</summary>
    public bool[] Difficult { get; }

    public int Count => Labels.Length;
}
