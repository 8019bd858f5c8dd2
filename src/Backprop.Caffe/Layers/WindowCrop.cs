using Backprop.Vision;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Cuts one detection window out of an image and warps it into a crop_size × crop_size sample, as Caffe's WindowData
/// layer does. With context_pad or square mode the box is first grown about its centre (square: to its longer side;
/// context_pad: so that, once warped, context_pad pixels of surroundings lie on each side), clipped to the image,
/// and the clipped part is warped to the size it would have had unclipped, placed at the offset the clipping cut
/// off; the rest of the sample stays 0. Arithmetic in float with C's round-half-away-from-zero, as Caffe's.
/// </summary>
internal static class WindowCrop
{
    /// <summary>Where the warped window lands in the sample: its size and its top-left offset.</summary>
    public readonly record struct Placement(int X1, int Y1, int X2, int Y2, int Width, int Height, int PadLeft, int PadTop);

    /// <summary>
    /// The region of the image to take (inclusive corners, clipped) and where its warp goes in the sample. Null when
    /// the box lies outside the image, or its warp would be empty.
    /// </summary>
    public static Placement? Place(int x1, int y1, int x2, int y2, int imageWidth, int imageHeight, int cropSize, int contextPad, bool square, bool mirror)
    {
        int width = cropSize, height = cropSize, padLeft = 0, padTop = 0;
        if (contextPad > 0 || square)
        {
            float contextScale = cropSize / (float)(cropSize - 2 * contextPad);
            float halfHeight = (float)((y2 - y1 + 1) / 2.0), halfWidth = (float)((x2 - x1 + 1) / 2.0);
            float centerX = x1 + halfWidth, centerY = y1 + halfHeight;
            if (square)
            {
                if (halfHeight > halfWidth) halfWidth = halfHeight;
                else halfHeight = halfWidth;
            }
            x1 = Round(centerX - halfWidth * contextScale);
            x2 = Round(centerX + halfWidth * contextScale);
            y1 = Round(centerY - halfHeight * contextScale);
            y2 = Round(centerY + halfHeight * contextScale);

            int unclippedHeight = y2 - y1 + 1, unclippedWidth = x2 - x1 + 1;
            int padX1 = Math.Max(0, -x1), padY1 = Math.Max(0, -y1);
            int padX2 = Math.Max(0, x2 - imageWidth + 1), padY2 = Math.Max(0, y2 - imageHeight + 1);
            x1 += padX1;
            x2 -= padX2;
            y1 += padY1;
            y2 -= padY2;
            if (x1 > x2 || y1 > y2) return null;
            float scaleX = cropSize / (float)unclippedWidth, scaleY = cropSize / (float)unclippedHeight;
            width = Round((x2 - x1 + 1) * scaleX);
            height = Round((y2 - y1 + 1) * scaleY);
            padTop = Round(padY1 * scaleY);
            padLeft = mirror ? Round(padX2 * scaleX) : Round(padX1 * scaleX);   // mirrored, the padding is too
            // Rounding may push the warp past the sample's edge: shrink it to fit, as Caffe does.
            if (padTop + height > cropSize) height = cropSize - padTop;
            if (padLeft + width > cropSize) width = cropSize - padLeft;
        }
        if (x1 < 0 || y1 < 0 || x2 >= imageWidth || y2 >= imageHeight || x1 > x2 || y1 > y2 || width < 1 || height < 1) return null;
        return new Placement(x1, y1, x2, y2, width, height, padLeft, padTop);
    }

    /// <summary>
    /// Writes the warped window into <paramref name="destination"/> (C × crop × crop, zeroed by the caller):
    /// (pixel − mean[c]) · scale, flipped left-right with <paramref name="mirror"/>. The warp is bilinear
    /// (OpenCV's INTER_LINEAR) and rounded to whole values, as OpenCV's 8-bit resize gives.
    /// </summary>
    // meanImage: transform_param's mean_file, used instead of mean when given: its centre crop_size square, by output
    // position (Caffe offsets both axes by (mean width − crop_size) / 2).
    public static void Write(Image image, Placement p, int cropSize, bool mirror, ReadOnlySpan<float> mean, float scale, Span<float> destination,
        MeanImage? meanImage = null)
    {
        int offset = meanImage is null ? 0 : (meanImage.Width - cropSize) / 2;
        int channels = image.Channels, rw = p.X2 - p.X1 + 1, rh = p.Y2 - p.Y1 + 1;
        var region = new Image(channels, rh, rw);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < rh; y++)
                image.Pixels.AsSpan((c * image.Height + p.Y1 + y) * image.Width + p.X1, rw).CopyTo(region.Pixels.AsSpan((c * rh + y) * rw, rw));
        var warped = rw == p.Width && rh == p.Height ? region : ImageResize.Bilinear(region, p.Height, p.Width);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < p.Height; y++)
                for (int x = 0; x < p.Width; x++)
                {
                    float pixel = MathF.Round(warped.Pixels[(c * p.Height + y) * p.Width + (mirror ? p.Width - 1 - x : x)]);
                    float m = meanImage is null ? mean[c]
                        : meanImage.Values[(c * meanImage.Height + y + offset + p.PadTop) * meanImage.Width + x + offset + p.PadLeft];
                    destination[(c * cropSize + y + p.PadTop) * cropSize + x + p.PadLeft] = (pixel - m) * scale;
                }
    }

    /// <summary>C's <c>round</c>: halves away from zero.</summary>
    private static int Round(float value) => (int)MathF.Round(value, MidpointRounding.AwayFromZero);
}
