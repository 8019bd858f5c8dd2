using System.Globalization;
using Backprop.Detection;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// A region proposal network's best proposals on an image: boxes shaded from bright (highest objectness) to dim, the
/// ground truth dashed white, and a caption above the image saying so. No per-box labels: proposals overlap heavily.
/// </summary>
public static class ProposalPicture
{
    /// <param name="image">RGB image, values in [0, 1].</param>
    /// <param name="proposals">(P, 4) proposals in the image's pixels, best first (as <see cref="RpnOutput.Proposals"/>).</param>
    /// <param name="scores">Their objectness, best first.</param>
    /// <param name="count">How many of the best to draw.</param>
    public static SKBitmap Render(Image image, Tensor proposals, float[] scores, int count = 10, DetectionTarget? groundTruth = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(scores);
        int n = Math.Min(Math.Min(count, proposals.Shape[0]), scores.Length);
        float scale = Math.Max(1f, 448f / Math.Max(image.Height, image.Width));
        using var canvas = new BoxCanvas(image.Channels, image.Height, image.Width, image.Pixels, scale);
        if (groundTruth is not null)
        {
            var g = groundTruth.Boxes.ToArray();
            for (int i = 0; i < groundTruth.Count; i++) canvas.Box(g[4 * i], g[4 * i + 1], g[4 * i + 2], g[4 * i + 3], SKColors.White, 2f, dashed: true);
        }
        var b = proposals.ToArray();
        for (int i = n - 1; i >= 0; i--)   // the best drawn last, on top
        {
            byte shade = (byte)(255 - 150 * i / Math.Max(n - 1, 1));
            canvas.Box(b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3], new SKColor(0, shade, 0), i == 0 ? 3f : 1.5f);
        }
        string range = n == 0 ? "no proposals" : string.Create(CultureInfo.InvariantCulture, $"objectness {scores[0]:F2} (brightest) to {scores[n - 1]:F2}");
        return BoxCanvas.Titled([(canvas.Bitmap, [$"the RPN's {n} best proposals (green), ground truth dashed white", range])]);
    }

    /// <summary>Writes the picture to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public static void Save(string path, Image image, Tensor proposals, float[] scores, int count = 10, DetectionTarget? groundTruth = null)
    {
        using var bitmap = Render(image, proposals, scores, count, groundTruth);
        PngFile.Save(bitmap, path);
    }
}
