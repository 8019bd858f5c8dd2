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
        var b = sample.Target.Boxes.ToArray();
        float sx = (float)width / image.Width, sy = (float)height / image.Height;
        for (int i = 0; i < b.Length; i += 4)
        {
            b[i] *= sx;
            b[i + 1] *= sy;
            b[i + 2] *= sx;
            b[i + 3] *= sy;
        }
        var target = new DetectionTarget(Tensor.FromArray(b, sample.Target.Count, 4), sample.Target.Labels, sample.Target.Difficult);
        return new DetectionSample(resized, target, sample.Id);
    }
}
