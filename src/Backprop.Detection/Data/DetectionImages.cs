using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>Images and boxes as the detection models take them: RGB values in [0, 1], continuous 0-based boxes.</summary>
public static class DetectionImages
{
    /// <summary>Decodes a PNG or JPEG file as RGB with values k / 255.</summary>
    public static Image Load(string path)
    {
        var image = ImageFile.Load(path, color: true, ChannelOrder.Rgb);
        var pixels = image.Pixels;
        for (int i = 0; i < pixels.Length; i++) pixels[i] /= 255f;
        return image;
    }

    /// <summary>
    /// VOC objects as a target: each 1-based inclusive box (xmin, ymin, xmax, ymax) becomes the continuous box
    /// (xmin − 1, ymin − 1, xmax, ymax) — its width is its pixel count — clipped to the image.
    /// </summary>
    public static DetectionTarget Target(IReadOnlyList<VocObject> objects, int width, int height, Func<VocObject, int> label)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(label);
        var boxes = new float[objects.Count * 4];
        var labels = new int[objects.Count];
        var difficult = new bool[objects.Count];
        for (int g = 0; g < objects.Count; g++)
        {
            var b = objects[g].Box;
            boxes[4 * g] = Math.Clamp(b.XMin - 1, 0, width);
            boxes[4 * g + 1] = Math.Clamp(b.YMin - 1, 0, height);
            boxes[4 * g + 2] = Math.Clamp(b.XMax, 0, width);
            boxes[4 * g + 3] = Math.Clamp(b.YMax, 0, height);
            labels[g] = label(objects[g]);
            difficult[g] = objects[g].Difficult;
        }
        return new DetectionTarget(Tensor.FromArray(boxes, objects.Count, 4), labels, difficult);
    }
}
