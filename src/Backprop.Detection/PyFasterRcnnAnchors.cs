namespace Backprop.Detection;

/// <summary>
/// py-faster-rcnn's anchors (<c>rpn/generate_anchors.py</c>) and their layout over a feature map (as its
/// anchor_target_layer and proposal_layer shift them).
/// </summary>
/// <remarks>
/// Boxes use py-faster-rcnn's inclusive pixel convention: width = x2 − x1 + 1, centre = x1 + (w − 1)/2.
/// Starting from the base box (0, 0, base−1, base−1), the ratio enumeration keeps the area:
/// <c>w = round(sqrt(area / ratio))</c>, <c>h = round(w · ratio)</c> (round half to even, as numpy); the scale
/// enumeration then multiplies w and h of each ratio anchor by every scale. A box of centre c and size (w, h) is
/// <c>(cx − (w−1)/2, cy − (h−1)/2, cx + (w−1)/2, cy + (h−1)/2)</c>. Order: ratio-major, anchor a = r · scales + s.
/// With the defaults the first anchor is (−84, −40, 99, 55). Computed in float64, stored as float32.
/// </remarks>
public static class PyFasterRcnnAnchors
{
    private static readonly float[] DefaultRatios = [0.5f, 1f, 2f];
    private static readonly float[] DefaultScales = [8f, 16f, 32f];

    /// <summary>The (ratios · scales, 4) zero-based anchors of one feature cell.</summary>
    /// <param name="baseSize">Side of the base box in pixels (the feature stride, 16 for VGG16/ZF).</param>
    /// <param name="ratios">Height / width ratios; default 0.5, 1, 2.</param>
    /// <param name="scales">Multipliers of the base size; default 8, 16, 32.</param>
    public static Tensor Generate(int baseSize = 16, IReadOnlyList<float>? ratios = null, IReadOnlyList<float>? scales = null)
    {
        if (baseSize <= 0) throw new ArgumentException($"PyFasterRcnnAnchors.Generate needs a positive base size, got {baseSize}.", nameof(baseSize));
        ratios ??= DefaultRatios;
        scales ??= DefaultScales;
        if (ratios.Count == 0 || scales.Count == 0)
            throw new ArgumentException($"PyFasterRcnnAnchors.Generate needs at least one ratio and one scale, got {ratios.Count} and {scales.Count}.");
        for (int i = 0; i < ratios.Count; i++)
            if (!(ratios[i] > 0) || !float.IsFinite(ratios[i]))
                throw new ArgumentException($"PyFasterRcnnAnchors ratio {i} must be positive and finite, got {ratios[i]}.", nameof(ratios));
        for (int i = 0; i < scales.Count; i++)
            if (!(scales[i] > 0) || !float.IsFinite(scales[i]))
                throw new ArgumentException($"PyFasterRcnnAnchors scale {i} must be positive and finite, got {scales[i]}.", nameof(scales));

        // The base box (0, 0, base-1, base-1): width = height = base, centre (base-1)/2.
        double centre = 0.5 * (baseSize - 1);
        double area = (double)baseSize * baseSize;
        var anchors = new float[ratios.Count * scales.Count * 4];
        int o = 0;
        for (int r = 0; r < ratios.Count; r++)
        {
            // Math.Round rounds half to even, as np.round does.
            double w = Math.Round(Math.Sqrt(area / ratios[r]));
            double h = Math.Round(w * ratios[r]);
            // The ratio anchor (centre ± (size-1)/2) keeps its centre; recomputing it as py-faster-rcnn does.
            double x1 = centre - 0.5 * (w - 1), y1 = centre - 0.5 * (h - 1);
            double cx = x1 + 0.5 * (w - 1), cy = y1 + 0.5 * (h - 1);
            for (int s = 0; s < scales.Count; s++)
            {
                double ws = w * scales[s], hs = h * scales[s];
                anchors[o++] = (float)(cx - 0.5 * (ws - 1));
                anchors[o++] = (float)(cy - 0.5 * (hs - 1));
                anchors[o++] = (float)(cx + 0.5 * (ws - 1));
                anchors[o++] = (float)(cy + 0.5 * (hs - 1));
            }
        }
        return Tensor.FromArray(anchors, ratios.Count * scales.Count, 4);
    }

    /// <summary>
    /// Shifts the base anchors (A, 4) over an H × W feature map: (H·W·A, 4), row <c>k·A + a</c> with
    /// <c>k = y·W + x</c> is base anchor a plus (x·stride, y·stride, x·stride, y·stride) — py-faster-rcnn's order.
    /// </summary>
    public static Tensor Shift(Tensor baseAnchors, int featureHeight, int featureWidth, int featureStride)
    {
        ArgumentNullException.ThrowIfNull(baseAnchors);
        if (baseAnchors.Rank != 2 || baseAnchors.Shape[1] != 4)
            throw new ArgumentException($"PyFasterRcnnAnchors.Shift needs base anchors of shape (A, 4), got {baseAnchors.Shape}.", nameof(baseAnchors));
        if (featureHeight < 0 || featureWidth < 0)
            throw new ArgumentException($"PyFasterRcnnAnchors.Shift needs a non-negative feature size, got {featureHeight}x{featureWidth}.");
        if (featureStride <= 0)
            throw new ArgumentException($"PyFasterRcnnAnchors.Shift needs a positive stride, got {featureStride}.", nameof(featureStride));
        return AnchorGenerator.Shifted(baseAnchors.ToArray(), featureHeight, featureWidth, featureStride, featureStride);
    }
}
