using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>Scales an image and its boxes together, so its longer side has a given number of pixels.</summary>
public static class DetectionResize
{
    /// <summary>
    /// The sample scaled (bilinear) so max(height, width) = <paramref name="imageSize"/>, boxes scaled by the same
    /// factors; unchanged when <paramref name="imageSize"/> is 0 or already the longer side.
    /// </summary>
    public static DetectionSample ToImageSize(DetectionSample sample, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentOutOfRangeException.ThrowIfNegative(imageSize);
        var image = sample.Image;
        int longer = Math.Max(image.Height, image.Width);
        if (imageSize == 0 || imageSize == longer) return sample;
        double scale = (double)imageSize / longer;
        int height = Math.Max(1, (int)Math.Round(image.Height * scale)), width = Math.Max(1, (int)Math.Round(image.Width * scale));
        var resized = ImageResize.Bilinear(image, height, width);
        var boxes = ScaleBoxes(sample.Target.Boxes, (float)width / image.Width, (float)height / image.Height);
        return new DetectionSample(resized, new DetectionTarget(boxes, sample.Target.Labels, sample.Target.Difficult), sample.Id);
    }

    /// <summary>(N, 4) boxes with x scaled by <paramref name="sx"/> and y by <paramref name="sy"/> (a new tensor).</summary>
    public static Tensor ScaleBoxes(Tensor boxes, float sx, float sy)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        var b = boxes.ToArray();
        for (int i = 0; i < b.Length; i += 4)
        {
            b[i] *= sx;
            b[i + 1] *= sy;
            b[i + 2] *= sx;
            b[i + 3] *= sy;
        }
        return Tensor.FromArray(b, boxes.Shape.ToArray());
    }
}
