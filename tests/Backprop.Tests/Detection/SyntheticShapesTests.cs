using Backprop.Detection;
using Backprop.Tests.IO;
using Backprop.Vision;

namespace Backprop.Tests.Detection;

public class SyntheticShapesTests
{
    [Fact]
    public void TheSameSeedWritesTheSameFilesBitForBit()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        SyntheticShapes.WriteVoc(a.Path, 3, 2, seed: 11, imageSize: 96);
        SyntheticShapes.WriteVoc(b.Path, 3, 2, seed: 11, imageSize: 96);
        SyntheticShapes.WriteVoc(c.Path, 3, 2, seed: 12, imageSize: 96);
        var files = Directory.GetFiles(a.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Path, f)).Order().ToArray();
        Assert.Equal(5 + 5 + 2 + 1, files.Length);   // images, annotations, two splits, classes.txt; no temporary files left
        foreach (var f in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, f)), File.ReadAllBytes(Path.Combine(b.Path, f)));
        Assert.NotEqual(File.ReadAllBytes(a.File("JPEGImages/000000.jpg")), File.ReadAllBytes(c.File("JPEGImages/000000.jpg")));
        Assert.Equal("000000\n000001\n000002\n", File.ReadAllText(a.File("ImageSets/Main/trainval.txt")));
        Assert.Equal("000003\n000004\n", File.ReadAllText(a.File("ImageSets/Main/test.txt")));
        Assert.Equal("circle\nsquare\ntriangle\ncross\n", File.ReadAllText(a.File("classes.txt")));
    }

    [Fact]
    public void WrittenSetReadsBackAsTheGeneratedImagesAndObjects()
    {
        using var dir = new TempDirectory();
        SyntheticShapes.WriteVoc(dir.Path, 2, 1, seed: 5);
        var test = new VocDataset(dir.Path, "test");
        Assert.Equal(SyntheticShapes.ClassNames, test.Classes);
        var sample = test.Load(0);
        var (image, objects) = SyntheticShapes.Generate(5, 2);
        Assert.Equal(objects, test.Annotation(0).Objects);
        // JPEG at quality 95 keeps the picture: pixels differ by about 6/255 on average (mostly the pixel noise,
        // which JPEG smooths), channel means by far less.
        double error = image.Pixels.Zip(sample.Image.Pixels, (p, q) => Math.Abs(p - q)).Average();
        Assert.True(error < 0.035, $"mean JPEG error {error}");
        int plane = image.Width * image.Height;
        for (int c = 0; c < 3; c++)
        {
            double drawn = image.Pixels.AsSpan(c * plane, plane).ToArray().Average(), read = sample.Image.Pixels.AsSpan(c * plane, plane).ToArray().Average();
            Assert.True(Math.Abs(drawn - read) < 0.005, $"channel {c}: mean {drawn} drawn, {read} read");
        }
        for (int g = 0; g < objects.Count; g++)
        {
            var box = objects[g].Box;
            Assert.Equal([box.XMin - 1, box.YMin - 1, box.XMax, box.YMax], sample.Target.Boxes.ToArray()[(4 * g)..(4 * g + 4)]);
        }
    }

    [Fact]
    public void AnnotationsAreInsideTheImageAndFollowTheRules()
    {
        const int size = 224;
        int truncated = 0, difficult = 0, total = 0;
        var perClass = new int[4];
        for (int i = 0; i < 60; i++)
        {
            var (image, objects) = SyntheticShapes.Generate(3, i, size);
            Assert.Equal((3, size, size), (image.Channels, image.Height, image.Width));
            foreach (float p in image.Pixels)
                if (!(p >= 0 && p <= 1 && MathF.Round(p * 255) / 255 == p)) Assert.Fail($"image {i}: pixel {p} is not k / 255");
            Assert.InRange(objects.Count, 1, 4);
            foreach (var o in objects)
            {
                var b = o.Box;
                Assert.True(1 <= b.XMin && b.XMin <= b.XMax && b.XMax <= size && 1 <= b.YMin && b.YMin <= b.YMax && b.YMax <= size, $"image {i}: {b}");
                float w = b.XMax - b.XMin + 1, h = b.YMax - b.YMin + 1;
                Assert.True(Math.Max(w, h) <= 130, $"image {i}: {b} is larger than any shape");
                if (o.Truncated) Assert.True(b.XMin == 1 || b.YMin == 1 || b.XMax == size || b.YMax == size, $"image {i}: truncated {b} does not touch the border");
                if (Math.Max(w, h) < 20) Assert.True(o.Difficult, $"image {i}: {b} is tiny but not difficult");
                truncated += o.Truncated ? 1 : 0;
                difficult += o.Difficult ? 1 : 0;
                perClass[SyntheticShapes.ClassNames.ToList().IndexOf(o.Name)]++;
                total++;
            }
            for (int p = 0; p < objects.Count; p++)
                for (int q = p + 1; q < objects.Count; q++)
                    Assert.True(Iou(objects[p].Box, objects[q].Box) < 0.5, $"image {i}: objects {p} and {q} overlap too much");
        }
        Assert.InRange(truncated, 1, total / 3);
        Assert.InRange(difficult, 1, total / 4);
        Assert.All(perClass, n => Assert.True(n >= total / 8, $"classes {string.Join(",", perClass)}"));
    }

    [Fact]
    public void RasterCoverageCountsSamplesInsideTheShape()
    {
        // A 10 x 10 square on [15, 25): whole pixels 15..24 fully covered, nothing outside.
        var square = new ShapeRaster().AddPolygon(ShapeRaster.Rectangle(20, 20, 10, 10, 0));
        var bounds = square.Bounds();
        var coverage = square.Coverage(bounds);
        int bw = bounds.X1 - bounds.X0;
        for (int i = 0; i < coverage.Length; i++)
        {
            int x = bounds.X0 + i % bw, y = bounds.Y0 + i / bw;
            Assert.Equal(x is >= 15 and < 25 && y is >= 15 and < 25 ? 1f : 0f, coverage[i]);
        }
        // Half a pixel: a rectangle on [15, 25) x [15, 15.5) covers 8 of the 16 samples of each pixel in row 15.
        var half = new ShapeRaster().AddPolygon((15, 15), (25, 15), (25, 15.5), (15, 15.5));
        var hb = half.Bounds();
        Assert.Equal(10 * 0.5f, half.Coverage(hb).Sum());
        // A disc of radius 5: its area to within the 4 x 4 sampling's error.
        var disc = new ShapeRaster().AddDisc(10, 10, 5);
        Assert.InRange(disc.Coverage(disc.Bounds()).Sum(), Math.PI * 25 - 2, Math.PI * 25 + 2);
        // A cross is the union of its two bars: the centre is counted once.
        var cross = new ShapeRaster().AddPolygon(ShapeRaster.Rectangle(10, 10, 10, 2, 0)).AddPolygon(ShapeRaster.Rectangle(10, 10, 10, 2, Math.PI / 2));
        Assert.Equal(20 + 20 - 4, cross.Coverage(cross.Bounds()).Sum(), 4);
    }

    private static double Iou(VocBox a, VocBox b)
    {
        double iw = Math.Min(a.XMax, b.XMax) - Math.Max(a.XMin, b.XMin) + 1, ih = Math.Min(a.YMax, b.YMax) - Math.Max(a.YMin, b.YMin) + 1;
        double inter = iw > 0 && ih > 0 ? iw * ih : 0;
        double area(VocBox v) => (v.XMax - v.XMin + 1.0) * (v.YMax - v.YMin + 1);
        return inter / (area(a) + area(b) - inter);
    }
}
