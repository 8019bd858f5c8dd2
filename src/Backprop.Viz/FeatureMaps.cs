using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// A picture of the feature maps one image produces at a layer: a tensor (1, C, H, W) (or (C, H, W), or
/// (1, C) from a fully connected layer, drawn as C single cells) becomes C gray tiles in a near-square grid,
/// each map normalised to its own min..max → 0..255 (or the tensor's range with <see cref="ValueRange.Shared"/>),
/// upscaled with nearest-neighbour, with 1-pixel separators.
/// </summary>
public static class FeatureMaps
{
    /// <summary>The grid as an RGBA bitmap (the caller disposes it). <see cref="FilterGridOptions.Scale"/> defaults to 8; 2 or 4 suits 28×28 maps.</summary>
    public static SKBitmap Render(Tensor maps, FilterGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var (c, h, w) = Dimensions(maps.Shape);
        // Each map is a one-channel "filter": C tiles of H × W.
        return FilterGrid.Render(Tensor.FromArray(maps.ToArray(), c, 1, h, w), options);
    }

    private static (int C, int H, int W) Dimensions(Shape s)
    {
        var (c, h, w) = s.Rank switch
        {
            4 when s[0] == 1 => (s[1], s[2], s[3]),
            3 => (s[0], s[1], s[2]),
            2 when s[0] == 1 => (s[1], 1, 1),
            _ => throw new ArgumentException($"Feature maps must have shape (1, C, H, W) for one image (or (C, H, W), or (1, C)), got {s}; take one image of the batch first."),
        };
        if (c == 0 || h == 0 || w == 0) throw new ArgumentException($"Feature maps of shape {s} are empty.");
        return (c, h, w);
    }

    /// <summary>
    /// The maps as a labelled picture: <paramref name="title"/> on top, each tile captioned with its channel number,
    /// and the gray scale explained. Without <paramref name="options"/>' scale, maps are upscaled to about
    /// <see cref="ReadableTile"/> pixels (<see cref="AutoScale"/>), so 4×4 maps are as readable as 24×24 ones.
    /// </summary>
    public static LabelledPicture RenderLabelled(Tensor maps, string title, FilterGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var (c, h, w) = Dimensions(maps.Shape);
        options ??= new FilterGridOptions { Scale = AutoScale(h, w) };
        return FilterSheet.Tiles(Tensor.FromArray(maps.ToArray(), c, 1, h, w), title, "map", options);
    }

    /// <summary>The tile size, in pixels, that <see cref="AutoScale"/> aims at.</summary>
    public const int ReadableTile = 64;

    /// <summary>The integer scale (1 to 64) that makes an <paramref name="h"/> × <paramref name="w"/> map about <see cref="ReadableTile"/> pixels on its longer side.</summary>
    public static int AutoScale(int h, int w) => Math.Clamp((ReadableTile + Math.Max(h, w) - 1) / Math.Max(1, Math.Max(h, w)), 1, 64);

    /// <summary>The grid encoded as PNG.</summary>
    public static byte[] RenderPng(Tensor maps, FilterGridOptions? options = null)
    {
        using var bitmap = Render(maps, options);
        return PngFile.Encode(bitmap);
    }

    /// <summary>Writes the grid to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public static void Save(Tensor maps, string path, FilterGridOptions? options = null) =>
        PngFile.WriteAtomically(path, RenderPng(maps, options));
}
