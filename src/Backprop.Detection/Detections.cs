namespace Backprop.Detection;

/// <summary>
/// What a detector reports for one image: <see cref="Boxes"/> (D, 4) as (x1, y1, x2, y2) in the same pixel
/// coordinates as the image's <see cref="DetectionTarget"/>, a confidence per box in <see cref="Scores"/>, and a
/// class per box in <see cref="Labels"/> (1..C; background is never reported).
/// </summary>
public sealed record Detections(Tensor Boxes, float[] Scores, int[] Labels)
{
    /// <summary>Number of detections D.</summary>
    public int Count => Scores.Length;

    /// <summary>No detections, for an image where the detector found nothing.</summary>
    public static Detections Empty() => new(Tensor.Zeros(0, 4), [], []);
}
