using System.Globalization;
using Backprop.Detection;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// What a region proposal network trains on, for one image, in two panels. Left: the k anchors of one feature position
/// (one colour per anchor type). Right: the ground truth (white), and the anchors the sampler picked — positives as
/// red boxes, negatives as blue dots at their centres (there are many) — with the counts per anchor type.
/// </summary>
public static class AnchorPicture
{
    /// <param name="image">RGB image, values in [0, 1].</param>
    /// <param name="anchorsAtPosition">(k, 4) anchors of one feature position, in image pixels.</param>
    /// <param name="anchors">All anchors (H·W·k, 4) in (y, x, type) order, as <see cref="RpnOutput.Anchors"/>.</param>
    /// <param name="sample">The anchors sampled for this image (indices into <paramref name="anchors"/>), or null.</param>
    public static SKBitmap Render(Image image, Tensor anchorsAtPosition, Tensor anchors, DetectionTarget? groundTruth, RpnSample? sample)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(anchorsAtPosition);
        ArgumentNullException.ThrowIfNull(anchors);
        int k = anchorsAtPosition.Shape[0];
        float scale = Math.Max(1f, 360f / Math.Max(image.Height, image.Width));
        // Anchors reach past the image: leave a margin of the largest anchor's overhang (bounded).
        var a = anchorsAtPosition.ToArray();
        float overhang = 0;
        for (int i = 0; i < k; i++)
            overhang = Math.Max(overhang, Math.Max(Math.Max(-a[4 * i], -a[4 * i + 1]), Math.Max(a[4 * i + 2] - image.Width, a[4 * i + 3] - image.Height)));
        int margin = (int)Math.Min(Math.Ceiling(overhang * scale) + 4, 400);

        using var left = new BoxCanvas(image.Channels, image.Height, image.Width, image.Pixels, scale, margin);
        for (int i = 0; i < k; i++)
            left.Box(a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3], BoxCanvas.ClassColor(i + 1), 2f);
        var captions = new List<(string Left, string Right)> { ($"the k = {k} anchors at one feature position", "ground truth (white)") };

        using var right = new BoxCanvas(image.Channels, image.Height, image.Width, image.Pixels, scale, margin);
        if (groundTruth is not null)
        {
            var g = groundTruth.Boxes.ToArray();
            for (int i = 0; i < groundTruth.Count; i++) right.Box(g[4 * i], g[4 * i + 1], g[4 * i + 2], g[4 * i + 3], SKColors.White, 3f);
        }
        if (sample is not null)
        {
            var all = anchors.ToArray();
            foreach (int i in sample.Negative)
            {
                float cx = (all[4 * i] + all[4 * i + 2]) / 2, cy = (all[4 * i + 1] + all[4 * i + 3]) / 2;
                right.Box(cx - 1, cy - 1, cx + 1, cy + 1, new SKColor(40, 90, 255), 2f);
            }
            foreach (int i in sample.Positive) right.Box(all[4 * i], all[4 * i + 1], all[4 * i + 2], all[4 * i + 3], new SKColor(255, 40, 40), 1.5f);
            var perType = new int[k];
            foreach (int i in sample.Positive) perType[i % k]++;
            captions[0] = (captions[0].Left, string.Create(CultureInfo.InvariantCulture,
                $"sampled: {sample.Positive.Length} positive (red), {sample.Negative.Length} negative (blue centres)"));
            captions.Add(("one colour per anchor type", "positives per anchor type: " + string.Join(" ", perType)));
        }

        return BoxCanvas.Titled([(left.Bitmap, captions.Select(c => c.Left).ToArray()), (right.Bitmap, captions.Select(c => c.Right).ToArray())]);
    }

    /// <summary>Writes the picture to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public static void Save(string path, Image image, Tensor anchorsAtPosition, Tensor anchors, DetectionTarget? groundTruth, RpnSample? sample)
    {
        using var bitmap = Render(image, anchorsAtPosition, anchors, groundTruth, sample);
        PngFile.Save(bitmap, path);
    }
}
