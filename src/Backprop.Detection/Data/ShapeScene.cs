using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>One image of <see cref="SyntheticShapes"/>: background clutter, then the objects, then pixel noise.</summary>
internal sealed class ShapeScene
{
    private const int MaxAttempts = 60;
    private readonly int size;
    private readonly double scale;
    private readonly Generator generator;
    private readonly float[] pixels;   // (3, size, size), 0..1

    public ShapeScene(int size, Generator generator)
    {
        this.size = size;
        this.generator = generator;
        scale = size / 224.0;
        pixels = new float[3 * size * size];
    }

    /// <summary>Draws the whole image and returns its objects (boxes in VOC's 1-based inclusive pixels).</summary>
    public IReadOnlyList<VocObject> Draw()
    {
        DrawBackground();
        int count = 1 + generator.NextInt(4);
        var objects = new List<VocObject>();
        var boxes = new List<(int X0, int Y0, int X1, int Y1)>();
        for (int n = 0; n < count; n++)
            for (int attempt = 0; attempt < MaxAttempts; attempt++)
                if (TryPlaceObject(boxes, objects)) break;
        AddNoise(0.03f);
        return objects;
    }

    /// <summary>The pixels rounded to 8 bits (k / 255), as the JPEG encoder receives them.</summary>
    public Image ToImage()
    {
        var quantized = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) quantized[i] = MathF.Round(Math.Clamp(pixels[i], 0f, 1f) * 255f) / 255f;
        return new Image(3, size, size, quantized);
    }

    private double Uniform(double low, double high) => low + (high - low) * generator.NextDouble();

    private void DrawBackground()
    {
        // A gradient between two muted colours along a random direction.
        var from = Muted();
        var to = Muted();
        double angle = Uniform(0, 2 * Math.PI), dx = Math.Cos(angle), dy = Math.Sin(angle);
        double reach = (Math.Abs(dx) + Math.Abs(dy)) * size;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double t = Math.Clamp(((x - size / 2.0) * dx + (y - size / 2.0) * dy) / reach + 0.5, 0, 1);
                for (int c = 0; c < 3; c++) pixels[(c * size + y) * size + x] = (float)(from[c] + (to[c] - from[c]) * t);
            }

        // Soft blobs: Gaussian bumps with no edge, so nothing like a drawn shape.
        int blobs = generator.NextInt(5);
        for (int b = 0; b < blobs; b++)
        {
            double bx = Uniform(0, size), by = Uniform(0, size), sigma = Uniform(6, 25) * scale, amplitude = Uniform(0.3, 0.6);
            var colour = Saturated();
            int reach2 = (int)Math.Ceiling(3 * sigma);
            for (int y = Math.Max(0, (int)by - reach2); y < Math.Min(size, (int)by + reach2); y++)
                for (int x = Math.Max(0, (int)bx - reach2); x < Math.Min(size, (int)bx + reach2); x++)
                {
                    double d2 = (x + 0.5 - bx) * (x + 0.5 - bx) + (y + 0.5 - by) * (y + 0.5 - by);
                    Blend(x, y, colour, amplitude * Math.Exp(-d2 / (2 * sigma * sigma)));
                }
        }

        // Thin straight lines, long and 1-3 pixels wide.
        int lines = generator.NextInt(5);
        for (int l = 0; l < lines; l++)
        {
            double length = Uniform(60, 260) * scale, width = Uniform(1, 3) * scale;
            var line = new ShapeRaster().AddPolygon(ShapeRaster.Rectangle(Uniform(0, size), Uniform(0, size), length, width, Uniform(0, Math.PI)));
            Paint(line.Bounds(), line.Coverage(line.Bounds()), Saturated());
        }
    }

    private bool TryPlaceObject(List<(int X0, int Y0, int X1, int Y1)> boxes, List<VocObject> objects)
    {
        int kind = generator.NextInt(SyntheticShapes.ClassNames.Count);
        bool tiny = generator.NextDouble() < 0.125;
        double extent = (tiny ? Uniform(10, 19) : Uniform(22, 110)) * scale;
        double cx = Uniform(0.2 * extent, size - 0.2 * extent), cy = Uniform(0.2 * extent, size - 0.2 * extent);
        var shape = MakeShape(kind, cx, cy, extent);
        var bounds = shape.Bounds();
        var coverage = shape.Coverage(bounds);

        // The box: pixels covered by at least half, over the whole plane, then clipped to the image.
        int bw = bounds.X1 - bounds.X0;
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = int.MinValue, y1 = int.MinValue;
        double total = 0, visible = 0;
        for (int i = 0; i < coverage.Length; i++)
        {
            int x = bounds.X0 + i % bw, y = bounds.Y0 + i / bw;
            total += coverage[i];
            if (x >= 0 && x < size && y >= 0 && y < size) visible += coverage[i];
            if (coverage[i] < 0.5f) continue;
            (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
        }
        if (total == 0 || visible < 0.6 * total) return false;
        bool truncated = x0 < 0 || y0 < 0 || x1 >= size || y1 >= size;
        var box = (X0: Math.Max(x0, 0), Y0: Math.Max(y0, 0), X1: Math.Min(x1, size - 1), Y1: Math.Min(y1, size - 1));
        if (box.X1 < box.X0 || box.Y1 < box.Y0) return false;
        foreach (var other in boxes)
        {
            var (intersection, iou, smaller) = Overlap(box, other);
            if (iou >= 0.5 || intersection > 0.3 * smaller) return false;
        }

        var colour = ContrastingColour(box);
        Paint(bounds, coverage, colour);
        boxes.Add(box);
        bool difficult = tiny || Math.Max(box.X1 - box.X0 + 1, box.Y1 - box.Y0 + 1) < 20 * scale;
        objects.Add(new VocObject(SyntheticShapes.ClassNames[kind], new VocBox(box.X0 + 1, box.Y0 + 1, box.X1 + 1, box.Y1 + 1), difficult, truncated));
        return true;
    }

    /// <summary>Shape <paramref name="kind"/> (circle, square, triangle, cross) centred at (cx, cy), about <paramref name="extent"/> across.</summary>
    private ShapeRaster MakeShape(int kind, double cx, double cy, double extent)
    {
        var shape = new ShapeRaster();
        double turn = Uniform(-20, 20) * Math.PI / 180;
        switch (kind)
        {
            case 0:
                return shape.AddDisc(cx, cy, extent / 2);
            case 1:
                return shape.AddPolygon(ShapeRaster.Rectangle(cx, cy, 0.8 * extent, 0.8 * extent, turn));
            case 2:
                // Equilateral, pointing up (within ±20°), its circumcircle `extent` across.
                double r = extent / 2;
                var corners = new (double X, double Y)[3];
                for (int k = 0; k < 3; k++)
                {
                    double a = -Math.PI / 2 + turn + k * 2 * Math.PI / 3;
                    corners[k] = (cx + r * Math.Cos(a), cy + 0.15 * r + r * Math.Sin(a));
                }
                return shape.AddPolygon(corners);
            default:
                double thickness = 0.34 * extent, tilt = turn * 0.75;
                return shape.AddPolygon(ShapeRaster.Rectangle(cx, cy, extent, thickness, tilt))
                            .AddPolygon(ShapeRaster.Rectangle(cx, cy, extent, thickness, tilt + Math.PI / 2));
        }
    }

    private static (double Intersection, double Iou, double Smaller) Overlap((int X0, int Y0, int X1, int Y1) a, (int X0, int Y0, int X1, int Y1) b)
    {
        double iw = Math.Min(a.X1, b.X1) - Math.Max(a.X0, b.X0) + 1, ih = Math.Min(a.Y1, b.Y1) - Math.Max(a.Y0, b.Y0) + 1;
        double intersection = iw > 0 && ih > 0 ? iw * ih : 0;
        double areaA = (a.X1 - a.X0 + 1.0) * (a.Y1 - a.Y0 + 1), areaB = (b.X1 - b.X0 + 1.0) * (b.Y1 - b.Y0 + 1);
        return (intersection, intersection / (areaA + areaB - intersection), Math.Min(areaA, areaB));
    }

    /// <summary>A saturated colour that stands out from the mean of the background under <paramref name="box"/>.</summary>
    private double[] ContrastingColour((int X0, int Y0, int X1, int Y1) box)
    {
        var mean = new double[3];
        int n = (box.X1 - box.X0 + 1) * (box.Y1 - box.Y0 + 1);
        for (int c = 0; c < 3; c++)
        {
            for (int y = box.Y0; y <= box.Y1; y++)
                for (int x = box.X0; x <= box.X1; x++) mean[c] += pixels[(c * size + y) * size + x];
            mean[c] /= n;
        }
        for (int attempt = 0; attempt < 30; attempt++)
        {
            var colour = Saturated();
            double distance = Math.Sqrt(Enumerable.Range(0, 3).Sum(c => (colour[c] - mean[c]) * (colour[c] - mean[c])));
            if (distance >= 0.45 && Math.Abs(Luma(colour) - Luma(mean)) >= 0.15) return colour;
        }
        return Luma(mean) > 0.5 ? [0.05, 0.05, 0.05] : [0.95, 0.95, 0.95];
    }

    private static double Luma(double[] rgb) => 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];

    private double[] Muted()
    {
        double gray = Uniform(0.25, 0.75);
        return [gray + Uniform(-0.15, 0.15), gray + Uniform(-0.15, 0.15), gray + Uniform(-0.15, 0.15)];
    }

    /// <summary>A random hue at high saturation (HSV with S in [0.75, 1], V in [0.5, 1]).</summary>
    private double[] Saturated()
    {
        double h = Uniform(0, 6), s = Uniform(0.75, 1), v = Uniform(0.5, 1);
        double chroma = v * s, x = chroma * (1 - Math.Abs(h % 2 - 1)), m = v - chroma;
        var (r, g, b) = (int)h switch
        {
            0 => (chroma, x, 0.0), 1 => (x, chroma, 0.0), 2 => (0.0, chroma, x),
            3 => (0.0, x, chroma), 4 => (x, 0.0, chroma), _ => (chroma, 0.0, x),
        };
        return [r + m, g + m, b + m];
    }

    private void Paint((int X0, int Y0, int X1, int Y1) bounds, float[] coverage, double[] colour)
    {
        int bw = bounds.X1 - bounds.X0;
        for (int i = 0; i < coverage.Length; i++)
        {
            int x = bounds.X0 + i % bw, y = bounds.Y0 + i / bw;
            if (coverage[i] > 0 && x >= 0 && x < size && y >= 0 && y < size) Blend(x, y, colour, coverage[i]);
        }
    }

    private void Blend(int x, int y, double[] colour, double alpha)
    {
        for (int c = 0; c < 3; c++)
        {
            ref float p = ref pixels[(c * size + y) * size + x];
            p = (float)(p + (colour[c] - p) * alpha);
        }
    }

    private void AddNoise(float sigma)
    {
        for (int i = 0; i < pixels.Length; i++) pixels[i] += sigma * generator.NextNormal();
    }
}
