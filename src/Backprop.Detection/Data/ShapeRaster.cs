namespace Backprop.Detection;

/// <summary>
/// A filled shape as a union of parts, each a disc or a convex polygon, drawn by <see cref="SyntheticShapes"/>.
/// Coverage is counted on a fixed 4 × 4 grid of samples per pixel in plain managed arithmetic, so the same seed gives
/// the same pixels on every machine (a native rasterizer may pick different SIMD paths for its anti-aliasing).
/// </summary>
internal sealed class ShapeRaster
{
    private const int Samples = 4;
    private readonly List<(double X, double Y, double Radius)> discs = [];
    private readonly List<(double X, double Y)[]> polygons = [];

    public ShapeRaster AddDisc(double x, double y, double radius)
    {
        discs.Add((x, y, radius));
        return this;
    }

    /// <summary>Adds a convex polygon (vertices in either winding order).</summary>
    public ShapeRaster AddPolygon(params (double X, double Y)[] vertices)
    {
        double area = 0;
        for (int i = 0; i < vertices.Length; i++)
        {
            var (a, b) = (vertices[i], vertices[(i + 1) % vertices.Length]);
            area += a.X * b.Y - b.X * a.Y;
        }
        polygons.Add(area >= 0 ? vertices : vertices.Reverse().ToArray());
        return this;
    }

    /// <summary>The pixel rectangle [x0, x1) × [y0, y1) that can hold any coverage (not clipped to an image).</summary>
    public (int X0, int Y0, int X1, int Y1) Bounds()
    {
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        foreach (var (x, y, r) in discs) (x0, y0, x1, y1) = (Math.Min(x0, x - r), Math.Min(y0, y - r), Math.Max(x1, x + r), Math.Max(y1, y + r));
        foreach (var p in polygons)
            foreach (var (x, y) in p) (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
        return ((int)Math.Floor(x0), (int)Math.Floor(y0), (int)Math.Ceiling(x1) + 1, (int)Math.Ceiling(y1) + 1);
    }

    /// <summary>Coverage 0..1 of every pixel of <see cref="Bounds"/>, row-major (pixel (x, y) spans [x, x+1) × [y, y+1)).</summary>
    public float[] Coverage((int X0, int Y0, int X1, int Y1) bounds)
    {
        int w = bounds.X1 - bounds.X0, h = bounds.Y1 - bounds.Y0;
        var coverage = new float[w * h];
        for (int py = 0; py < h; py++)
            for (int px = 0; px < w; px++)
            {
                int inside = 0;
                for (int sy = 0; sy < Samples; sy++)
                    for (int sx = 0; sx < Samples; sx++)
                        if (Contains(bounds.X0 + px + (sx + 0.5) / Samples, bounds.Y0 + py + (sy + 0.5) / Samples)) inside++;
                coverage[py * w + px] = inside / (float)(Samples * Samples);
            }
        return coverage;
    }

    private bool Contains(double x, double y)
    {
        foreach (var (cx, cy, r) in discs)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) return true;
        foreach (var p in polygons)
        {
            bool inside = true;
            for (int i = 0; i < p.Length && inside; i++)
            {
                var (a, b) = (p[i], p[(i + 1) % p.Length]);
                inside = (b.X - a.X) * (y - a.Y) - (b.Y - a.Y) * (x - a.X) >= 0;
            }
            if (inside) return true;
        }
        return false;
    }

    /// <summary>A rectangle of <paramref name="length"/> × <paramref name="thickness"/> centred at (x, y), turned by <paramref name="angle"/> radians.</summary>
    public static (double X, double Y)[] Rectangle(double x, double y, double length, double thickness, double angle)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle), hl = length / 2, ht = thickness / 2;
        return [(x + c * hl - s * ht, y + s * hl + c * ht), (x - c * hl - s * ht, y - s * hl + c * ht),
                (x - c * hl + s * ht, y - s * hl - c * ht), (x + c * hl + s * ht, y + s * hl - c * ht)];
    }
}
