using Backprop.Detection;
using Backprop.Tests.IO;
using Backprop.Tests.Vision;
using SkiaSharp;
using static Backprop.Tests.Detection.VocAnnotationTests;

namespace Backprop.Tests.Detection;

public class VocDatasetTests
{
    /// <summary>
    /// Three 4x3 (W x H) PNG images: a (dog, difficult cat), b (bird), c (zebra, only in the test split).
    /// Pixel (y, x) of every image has R = 10y + x, G = 100, B = 255.
    /// </summary>
    private static TempDirectory TinyVoc()
    {
        var dir = new TempDirectory();
        foreach (var sub in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
            Directory.CreateDirectory(dir.File(sub));
        File.WriteAllText(dir.File("Annotations/a.xml"), Xml(4, 3, Object("dog", "1", "1", "4", "3"), Object("cat", "2", "2", "3", "2", difficult: "1")));
        File.WriteAllText(dir.File("Annotations/b.xml"), Xml(4, 3, Object("bird", "2", "1", "2", "1")));
        File.WriteAllText(dir.File("Annotations/c.xml"), Xml(4, 3, Object("zebra", "1", "1", "2", "2")));
        foreach (var id in new[] { "a", "b", "c" })
            TestImages.WritePng(dir.File($"JPEGImages/{id}.png"), 3, 4, (y, x) => new SKColor((byte)(10 * y + x), 100, 255));
        File.WriteAllText(dir.File("ImageSets/Main/trainval.txt"), "a\n\nb  \n");
        File.WriteAllText(dir.File("ImageSets/Main/test.txt"), "c\n");
        return dir;
    }

    [Fact]
    public void ClassesAreSortedNamesOverAllAnnotationsSoSplitsAgree()
    {
        using var dir = TinyVoc();
        var train = new VocDataset(dir.Path);
        var test = new VocDataset(dir.Path, "test");
        Assert.Equal(["bird", "cat", "dog", "zebra"], train.Classes);
        Assert.Equal(train.Classes, test.Classes);
        Assert.Equal(2, train.Count);
        Assert.Equal(("a", "b"), (train.Id(0), train.Id(1)));
        Assert.Equal(4, test.Load(0).Target.Labels[0]);   // zebra
    }

    [Fact]
    public void ClassesTxtAndAnExplicitListTakePrecedence()
    {
        using var dir = TinyVoc();
        File.WriteAllText(dir.File("classes.txt"), "zebra\ndog\ncat\nbird\n\n");
        Assert.Equal(["zebra", "dog", "cat", "bird"], new VocDataset(dir.Path).Classes);
        var given = new VocDataset(dir.Path, classes: ["cat", "dog", "bird", "zebra", "horse"]);
        Assert.Equal(5, given.Classes.Count);
        Assert.Equal([2, 1], given.Load(0).Target.Labels);   // dog, cat
    }

    [Fact]
    public void LoadGivesRgbInUnitRangeAndContinuousZeroBasedBoxes()
    {
        using var dir = TinyVoc();
        var sample = new VocDataset(dir.Path).Load(0);
        Assert.Equal("a", sample.Id);
        Assert.Equal((3, 3, 4), (sample.Image.Channels, sample.Image.Height, sample.Image.Width));
        Assert.Equal(12 / 255f, sample.Image[0, 1, 2]);   // R = 10y + x
        Assert.Equal(100 / 255f, sample.Image[1, 2, 3]);
        Assert.Equal(1f, sample.Image[2, 0, 0]);
        // dog (1, 1, 4, 3) is the whole 4x3 image: (0, 0, 4, 3); cat (2, 2, 3, 2) covers 2 x 1 pixels: (1, 1, 3, 2).
        Assert.Equal([0, 0, 4, 3, 1, 1, 3, 2], sample.Target.Boxes.ToArray());
        Assert.Equal([3, 2], sample.Target.Labels);
        Assert.Equal([false, true], sample.Target.Difficult);
    }

    [Fact]
    public void WithoutDifficultTheDifficultObjectsAreDropped()
    {
        using var dir = TinyVoc();
        var target = new VocDataset(dir.Path, useDifficult: false).Load(0).Target;
        Assert.Equal([0, 0, 4, 3], target.Boxes.ToArray());
        Assert.Equal([3], target.Labels);
    }

    [Fact]
    public void ErrorsNameTheFiles()
    {
        using var dir = TinyVoc();
        var noSplit = Assert.Throws<FileNotFoundException>(() => new VocDataset(dir.Path, "val"));
        Assert.Contains(Path.Combine(dir.Path, "ImageSets", "Main", "val.txt"), noSplit.Message);

        var unknown = Assert.Throws<InvalidDataException>(() => new VocDataset(dir.Path, classes: ["dog", "bird"]));
        Assert.Contains(Path.Combine(dir.Path, "Annotations", "a.xml"), unknown.Message);
        Assert.Contains("object 1 has class 'cat'", unknown.Message);

        File.Delete(dir.File("JPEGImages/b.png"));
        var missing = Assert.Throws<FileNotFoundException>(() => new VocDataset(dir.Path));
        Assert.Contains(Path.Combine(dir.Path, "JPEGImages", "b.jpg"), missing.Message);
        Assert.Contains(Path.Combine(dir.Path, "JPEGImages", "b.png"), missing.Message);

        TestImages.WritePng(dir.File("JPEGImages/b.png"), 5, 4, (_, _) => SKColors.Black);
        var size = Assert.Throws<InvalidDataException>(() => new VocDataset(dir.Path).Load(1));
        Assert.Contains("b.png is 4x5", size.Message);
        Assert.Contains("says 4x3", size.Message);

        File.WriteAllText(dir.File("ImageSets/Main/bad.txt"), "a\n../../etc/passwd\n");
        var hostile = Assert.Throws<InvalidDataException>(() => new VocDataset(dir.Path, "bad"));
        Assert.Contains("line 2", hostile.Message);
    }
}
