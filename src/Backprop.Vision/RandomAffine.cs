namespace Backprop.Vision;

/// <summary>
/// Keras 2's <c>ImageDataGenerator</c> shear and zoom in one warp: per image a shear angle drawn uniformly from
/// ±<see cref="ShearDegrees"/> (degrees, counter-clockwise, as Keras's <c>shear_range</c>), then a row zoom and a
/// column zoom each drawn uniformly from [1 − <see cref="ZoomRange"/>, 1 + <see cref="ZoomRange"/>] (a factor above 1
/// shows more of the image, i.e. zooms out). Output pixel p samples the input at <c>c + S·Z·(p − c)</c> around the
/// centre c, with S = [[1, −sin s], [0, cos s]] and Z = diag(zoom rows, zoom columns) in (row, column) coordinates,
/// bilinearly, points outside repeating the nearest edge pixel (Keras's <c>fill_mode="nearest"</c>, order 1).
/// The size does not change.
/// </summary>
public class RandomAffine : IImageTransform
{
    /// <param name="shearDegrees">Largest shear angle in degrees, ≥ 0.</param>
    /// <param name="zoomRange">Largest zoom change, 0 ≤ zoom &lt; 1.</param>
    public RandomAffine(double shearDegrees = 0, double zoomRange = 0)
    {
        if (!(shearDegrees >= 0 && shearDegrees < 90))
            throw new ArgumentOutOfRangeException(nameof(shearDegrees), shearDegrees, "The shear range must be between 0 and 90 degrees.");
        if (!(zoomRange >= 0 && zoomRange < 1))
            throw new ArgumentOutOfRangeException(nameof(zoomRange), zoomRange, "The zoom range must be at least 0 and below 1.");
        ShearDegrees = shearDegrees;
        ZoomRange = zoomRange;
    }

    /// <summary>Largest shear angle, degrees.</summary>
    public double ShearDegrees { get; }

    /// <summary>Largest zoom change: factors come from [1 − range, 1 + range].</summary>
    public double ZoomRange { get; }

    /// <inheritdoc/>
    public (int Height, int Width) OutputSize(int height, int width) => (height, width);

    /// <summary>Draws the shear (when its range is not 0), then the two zooms (when theirs is not 0), as Keras draws them.</summary>
    public Image Apply(Image image, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(generator);
        double shear = ShearDegrees > 0 ? (2 * generator.NextDouble() - 1) * ShearDegrees * Math.PI / 180 : 0;
        double zoomRows = 1, zoomColumns = 1;
        if (ZoomRange > 0)
        {
            zoomRows = 1 - ZoomRange + 2 * ZoomRange * generator.NextDouble();
            zoomColumns = 1 - ZoomRange + 2 * ZoomRange * generator.NextDouble();
        }
        if (shear == 0 && zoomRows == 1 && zoomColumns == 1) return image;
        // S·Z = [[zr, −sin(s)·zc], [0, cos(s)·zc]]
        return Warp(image, zoomRows, -Math.Sin(shear) * zoomColumns, 0, Math.Cos(shear) * zoomColumns);
    }

    /// <summary>
    /// The image resampled through the 2×2 matrix [[a, b], [c, d]] (row, column) about its centre: output (y, x)
    /// reads input (cy + a·dy + b·dx, cx + c·dy + d·dx), dy = y − cy, dx = x − cx, bilinear with edge repeat.
    /// </summary>
    public static Image Warp(Image image, double a, double b, double c, double d)
    {
        ArgumentNullException.ThrowIfNull(image);
        int channels = image.Channels, h = image.Height, w = image.Width;
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        var result = new Image(channels, h, w);
        var src = image.Pixels;
        var dst = result.Pixels;
        int plane = h * w;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double dy = y - cy, dx = x - cx;
                double sy = Math.Clamp(cy + a * dy + b * dx, 0, h - 1), sx = Math.Clamp(cx + c * dy + d * dx, 0, w - 1);
                int y0 = (int)sy, x0 = (int)sx;
                int y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
                float fy = (float)(sy - y0), fx = (float)(sx - x0);
                for (int ch = 0; ch < channels; ch++)
                {
                    int o = ch * plane;
                    float top = src[o + y0 * w + x0] * (1 - fx) + src[o + y0 * w + x1] * fx;
                    float bottom = src[o + y1 * w + x0] * (1 - fx) + src[o + y1 * w + x1] * fx;
                    dst[o + y * w + x] = top * (1 - fy) + bottom * fy;
                }
            }
        return result;
    }

    /// <inheritdoc/>
    public override string ToString() => $"RandomAffine(shear={ShearDegrees}°, zoom={ZoomRange})";
}

/// <summary>Zoom alone (Keras's <c>zoom_range</c>, or the <c>RandomZoom</c> preprocessing layer): see <see cref="RandomAffine"/>.</summary>
/// <param name="range">Largest zoom change: row and column factors drawn from [1 − range, 1 + range].</param>
public sealed class RandomZoom(double range) : RandomAffine(0, range)
{
    /// <inheritdoc/>
    public override string ToString() => $"RandomZoom({ZoomRange})";
}

/// <summary>Shear alone (Keras's <c>shear_range</c> in degrees, or the <c>RandomShear</c> layer): see <see cref="RandomAffine"/>.</summary>
/// <param name="degrees">Largest shear angle in degrees.</param>
public sealed class RandomShear(double degrees) : RandomAffine(degrees, 0)
{
    /// <inheritdoc/>
    public override string ToString() => $"RandomShear({ShearDegrees}°)";
}
