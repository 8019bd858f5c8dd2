using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>Left-to-right mirroring of a detection sample: the image and its boxes together.</summary>
public static class DetectionFlip
{
    /// <summary>
    /// The sample mirrored left to right. Pixel column x goes to W − 1 − x and, on continuous coordinates, a box
    /// (x1, y1, x2, y2) becomes (W − x2, y1, W − x1, y2), so its width and height are kept. Labels, difficult flags
    /// and the id are unchanged.
    /// </summary>
    public static DetectionSample Horizontal(DetectionSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var image = RandomFlip.Flip(sample.Image, horizontal: true, vertical: false);
        float w = sample.Image.Width;
        var boxes = sample.Target.Boxes.ToArray();   // boxes: (G, 4)
        for (int g = 0; g < boxes.Length; g += 4)
            (boxes[g], boxes[g + 2]) = (w - boxes[g + 2], w - boxes[g]);
        var target = new DetectionTarget(Tensor.FromArray(boxes, sample.Target.Count, 4), (int[])sample.Target.Labels.Clone(), (bool[])sample.Target.Difficult.Clone());
        return new DetectionSample(image, target, sample.Id);
    }
}
