using System.Globalization;
using Backprop.Detection;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// An image with detected boxes drawn over it, each captioned with its class and score in the class's colour; ground
/// truth, when given, as dashed white boxes. The image is enlarged so small images stay readable.
/// </summary>
public static class DetectionPicture
{
    /// <param name="image">RGB image, values in [0, 1] (as <see cref="VocDataset.Load"/> gives).</param>
    /// <param name="detections">Boxes in the image's pixels, scores and labels (1-based into <paramref name="classes"/>).</param>
    /// <param name="minScore">Detections scoring below are not drawn.</param>
    public static SKBitmap Render(Image image, Detections detections, IReadOnlyList<string> classes, float minScore = 0.5f,
        DetectionTarget? groundTruth = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(classes);
        float scale = Math.Max(1f, 448f / Math.Max(image.Height, image.Width));
        using var canvas = new BoxCanvas(image.Channels, image.Height, image.Width, image.Pixels, scale);
        if (groundTruth is not null)
        {
            var g = groundTruth.Boxes.ToArray();
            for (int i = 0; i < groundTruth.Count; i++) canvas.Box(g[4 * i], g[4 * i + 1], g[4 * i + 2], g[4 * i + 3], SKColors.White, 1.5f, dashed: true);
        }
        var b = detections.Boxes.ToArray();
        // Lowest scores first, so the best boxes' captions end up on top.
        foreach (int i in Enumerable.Range(0, detections.Scores.Length).OrderBy(i => detections.Scores[i]))
        {
            if (detections.Scores[i] < minScore) continue;
            int label = detections.Labels[i];
            string name = label >= 1 && label <= classes.Count ? classes[label - 1] : label.ToString(CultureInfo.InvariantCulture);
            var color = BoxCanvas.ClassColor(label);
            canvas.Box(b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3], color, 2.5f);
            canvas.Caption(b[4 * i], b[4 * i + 1], string.Create(CultureInfo.InvariantCulture, $"{name} {detections.Scores[i]:F2}"), color);
        }
        return canvas.Bitmap.Copy();
    }

    /// <summary>Writes the picture to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public static void Save(string path, Image image, Detections detections, IReadOnlyList<string> classes, float minScore = 0.5f,
        DetectionTarget? groundTruth = null)
    {
        using var bitmap = Render(image, detections, classes, minScore, groundTruth);
        PngFile.Save(bitmap, path);
    }
}
