namespace FiltersAndSeeds;

/// <summary>A filter's dominant edge orientation and how strongly oriented it is.</summary>
/// <param name="Degrees">Direction of the edge line, counter-clockwise from horizontal, in [0, 180):
/// 0 = horizontal edge (—), 45 = rising diagonal (/), 90 = vertical edge (|), 135 = falling diagonal (\).</param>
/// <param name="Coherence">0 (no preferred direction: a blob, a dot, noise) to 1 (every gradient points the same way: a clean straight edge or bar).</param>
public readonly record struct Orientation(double Degrees, double Coherence)
{
    /// <summary>The nearest of the four named directions, as a symbol.</summary>
    public string Symbol => ((int)Math.Round(Degrees / 45.0) % 4) switch { 0 => "—", 1 => "/", 2 => "|", _ => "\\" };
}

/// <summary>
/// Measures orientation with the structure tensor, the classic way to ask "which way does this patch's edge run":
/// <list type="number">
/// <item>Sobel gradients (gx to the right, gy upwards) at each position where the 3x3 Sobel kernel fits inside the filter
/// (the 3x3 interior of a 5x5 filter).</item>
/// <item>Sum their outer products: J = Σ [gx², gx·gy; gx·gy, gy²]. Its main eigenvector is the dominant gradient
/// direction, at angle φ = ½·atan2(2·Jxy, Jxx − Jyy); the edge runs perpendicular to it, at φ + 90°. Squaring the
/// gradients first means a dark-to-light and a light-to-dark edge count as the same orientation, as they should.</item>
/// <item>Coherence (λ1 − λ2) / (λ1 + λ2) = √((Jxx − Jyy)² + 4·Jxy²) / (Jxx + Jyy) says how much of the gradient energy
/// points that one way.</item>
/// </list>
/// </summary>
public static class EdgeOrientation
{
    /// <summary>Orientation of one square filter, <paramref name="weights"/> in row-major order, <paramref name="size"/> at least 3.</summary>
    public static Orientation Of(ReadOnlySpan<float> weights, int size)
    {
        if (size < 3 || weights.Length != size * size)
            throw new ArgumentException($"EdgeOrientation needs a square filter of side 3 or more, got {weights.Length} values for side {size}.");
        double jxx = 0, jyy = 0, jxy = 0;
        for (int r = 1; r < size - 1; r++)
            for (int c = 1; c < size - 1; c++)
            {
                var above = weights.Slice((r - 1) * size + c - 1, 3);
                var middle = weights.Slice(r * size + c - 1, 3);
                var below = weights.Slice((r + 1) * size + c - 1, 3);
                double gx = above[2] + 2 * middle[2] + below[2] - above[0] - 2 * middle[0] - below[0];
                double gy = above[0] + 2 * above[1] + above[2] - below[0] - 2 * below[1] - below[2];   // upwards: row r−1 is above
                jxx += gx * gx;
                jyy += gy * gy;
                jxy += gx * gy;
            }
        double energy = jxx + jyy;
        if (energy <= 0) return new Orientation(0, 0);
        double gradientAngle = 0.5 * Math.Atan2(2 * jxy, jxx - jyy) * 180 / Math.PI;   // (−90, 90]
        double edge = ((gradientAngle + 90) % 180 + 180) % 180;
        double coherence = Math.Sqrt((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy) / energy;
        return new Orientation(edge, coherence);
    }

    /// <summary>Orientation of each filter of a (K, 1, S, S) tensor.</summary>
    public static Orientation[] OfEach(Backprop.Tensor filters)
    {
        int k = filters.Shape[0], size = filters.Shape[2];
        var v = filters.ToArray();
        var result = new Orientation[k];
        for (int f = 0; f < k; f++) result[f] = Of(v.AsSpan(f * size * size, size * size), size);
        return result;
    }
}
