namespace Backprop.Detection;

/// <summary>
/// torchvision's (0.14) anchor generator for one feature map: one anchor per (size, aspect ratio) pair, centred on
/// the top-left corner of every feature cell, in pixels of the input image.
/// </summary>
/// <remarks>
/// Cell anchors (zero-centred), computed in float32 as torchvision does:
/// <c>h_r = sqrt(ratio)</c>, <c>w_r = 1 / h_r</c>, <c>w = w_r · size</c>, <c>h = h_r · size</c>,
/// anchor = <c>round((-w, -h, w, h) / 2)</c> with round half to even (<c>torch.round</c>). The order is ratio-major:
/// anchor index <c>a = r · sizes + s</c>. An aspect ratio is height / width. Unlike py-faster-rcnn
/// (<see cref="PyFasterRcnnAnchors"/>), widths carry no +1 and anchors are centred on the cell corner (x·stride, y·stride).
/// </remarks>
public sealed class AnchorGenerator
{
    private readonly float[] cell;   // cell: (A, 4)

    /// <param name="sizes">Anchor sides in pixels (the square root of the area), e.g. 32, 64, 128.</param>
    /// <param name="aspectRatios">Height / width ratios, e.g. 0.5, 1, 2.</param>
    public AnchorGenerator(IReadOnlyList<float> sizes, IReadOnlyList<float> aspectRatios)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(aspectRatios);
        if (sizes.Count == 0 || aspectRatios.Count == 0)
            throw new ArgumentException($"AnchorGenerator needs at least one size and one aspect ratio, got {sizes.Count} sizes and {aspectRatios.Count} ratios.");
        for (int i = 0; i < sizes.Count; i++)
            if (!(sizes[i] > 0) || !float.IsFinite(sizes[i]))
                throw new ArgumentException($"AnchorGenerator size {i} must be positive and finite, got {sizes[i]}.", nameof(sizes));
        for (int i = 0; i < aspectRatios.Count; i++)
            if (!(aspectRatios[i] > 0) || !float.IsFinite(aspectRatios[i]))
                throw new ArgumentException($"AnchorGenerator aspect ratio {i} must be positive and finite, got {aspectRatios[i]}.", nameof(aspectRatios));
        float[] s = [.. sizes], r = [.. aspectRatios];
        Sizes = Array.AsReadOnly(s);
        AspectRatios = Array.AsReadOnly(r);
        cell = MakeCellAnchors(s, r);
    }

    /// <summary>torchvision's single-level default for Faster R-CNN without FPN: sizes 32..512, ratios 0.5, 1, 2 (15 anchors).</summary>
    public static AnchorGenerator Default { get; } = new([32f, 64f, 128f, 256f, 512f], [0.5f, 1f, 2f]);

    public IReadOnlyList<float> Sizes { get; }

    public IReadOnlyList<float> AspectRatios { get; }

    /// <summary>A = ratios · sizes.</summary>
    public int AnchorsPerLocation => cell.Length / 4;

    /// <summary>The zero-centred anchors (A, 4) as (x1, y1, x2, y2), ratio-major.</summary>
    public Tensor CellAnchors() => Tensor.FromArray(cell, AnchorsPerLocation, 4);

    /// <summary>
    /// Anchors over a feature map of <paramref name="featureHeight"/> × <paramref name="featureWidth"/> cells:
    /// (H·W·A, 4), row <c>(y·W + x)·A + a</c> is cell anchor a shifted by (x·strideX, y·strideY) — torchvision's grid_anchors order.
    /// </summary>
    public Tensor GridAnchors(int featureHeight, int featureWidth, int strideY, int strideX)
    {
        if (featureHeight < 0 || featureWidth < 0)
            throw new ArgumentException($"AnchorGenerator.GridAnchors needs a non-negative feature size, got {featureHeight}x{featureWidth}.");
        if (strideY <= 0 || strideX <= 0)
            throw new ArgumentException($"AnchorGenerator.GridAnchors needs positive strides, got (y {strideY}, x {strideX}).");
        return Shifted(cell, featureHeight, featureWidth, strideY, strideX);
    }

    /// <summary>Cell anchors (A, 4) shifted over an H × W grid, shift-major: row (y·W + x)·A + a. Shared with py-faster-rcnn's layout.</summary>
    internal static Tensor Shifted(float[] cell, int height, int width, int strideY, int strideX)
    {
        int a = cell.Length / 4;
        var result = new float[checked(height * width * a * 4)];   // result: (H, W, A, 4)
        int o = 0;
        for (int y = 0; y < height; y++)
        {
            float sy = y * strideY;   // an integer shift added in float, as torchvision adds its int32 shifts to float anchors
            for (int x = 0; x < width; x++)
            {
                float sx = x * strideX;
                for (int i = 0; i < cell.Length; i += 4)
                {
                    result[o++] = cell[i] + sx;
                    result[o++] = cell[i + 1] + sy;
                    result[o++] = cell[i + 2] + sx;
                    result[o++] = cell[i + 3] + sy;
                }
            }
        }
        return Tensor.FromArray(result, height * width * a, 4);
    }

    private static float[] MakeCellAnchors(float[] sizes, float[] ratios)
    {
        var anchors = new float[ratios.Length * sizes.Length * 4];
        int o = 0;
        foreach (float ratio in ratios)
        {
            float hRatio = MathF.Sqrt(ratio);
            float wRatio = 1f / hRatio;
            foreach (float size in sizes)
            {
                float w = wRatio * size, h = hRatio * size;
                // MathF.Round rounds half to even, as torch.round does.
                anchors[o++] = MathF.Round(-w / 2);
                anchors[o++] = MathF.Round(-h / 2);
                anchors[o++] = MathF.Round(w / 2);
                anchors[o++] = MathF.Round(h / 2);
            }
        }
        return anchors;
    }

    public override string ToString() => $"AnchorGenerator(sizes=({string.Join(", ", Sizes)}), ratios=({string.Join(", ", AspectRatios)}))";
}
