using Backprop.Data;
using Backprop.Tests.IO;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Tests.Vision;

public class ImageFolderTests
{
    /// <summary>Writes a solid-colour image into class folder <paramref name="className"/> (created if needed).</summary>
    private static string WriteImage(TempDirectory dir, string className, string fileName, int height, int width, SKColor color,
        SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        string folder = Path.Combine(dir.Path, className);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, fileName))!);
        string path = Path.Combine(folder, fileName);
        File.WriteAllBytes(path, TestImages.Encode(height, width, (_, _) => color, format));
        return path;
    }

    /// <summary>Two classes of <paramref name="perClass"/> 2x2 images each: "a" red-ish, "b" blue-ish, values telling the file apart.</summary>
    private static TempDirectory TwoClasses(int perClass)
    {
        var dir = new TempDirectory();
        for (int i = 0; i < perClass; i++)
        {
            WriteImage(dir, "a", $"{i:D2}.png", 2, 2, new SKColor((byte)(100 + i), 0, 0));
            WriteImage(dir, "b", $"{i:D2}.png", 2, 2, new SKColor(0, 0, (byte)(100 + i)));
        }
        return dir;
    }

    [Fact]
    public void LabelsFollowClassFoldersSortedByName()
    {
        using var dir = new TempDirectory();
        // Ordinal order, as Python's sorted(): "Mango" < "apple" < "zebra".
        WriteImage(dir, "zebra", "z.png", 2, 2, new SKColor(3, 3, 3));
        WriteImage(dir, "apple", "a1.PNG", 2, 2, new SKColor(1, 1, 1));
        WriteImage(dir, "apple", "a2.Jpg", 2, 2, new SKColor(200, 200, 200), SKEncodedImageFormat.Jpeg);
        WriteImage(dir, "apple", Path.Combine("nested", "a3.jpeg"), 2, 2, new SKColor(100, 100, 100), SKEncodedImageFormat.Jpeg);
        WriteImage(dir, "Mango", "m.png", 2, 2, new SKColor(2, 2, 2));
        File.WriteAllText(Path.Combine(dir.Path, "apple", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(dir.Path, "README.md"), "top-level files are not classes");

        var data = ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { Shuffle = false });

        Assert.Equal(["Mango", "apple", "zebra"], data.ClassNames);
        Assert.Equal(5, data.Count);
        Assert.Equal([0, 1, 1, 1, 2], data.Labels);
        // Class by class; in a class, its own files first, then subfolders (Keras walks folders in name order).
        Assert.Equal(["m.png", "a1.PNG", "a2.Jpg", "a3.jpeg", "z.png"], data.FilePaths.Select(Path.GetFileName));
        Assert.Equal(new Shape(5, 2, 2, 3), data.Images.Shape);
        Assert.Equal(2f, data.Images[0, 1, 1, 0]);
        Assert.Equal(1f, data.Images[1, 0, 0, 2]);
        Assert.InRange(data.Images[2, 0, 0, 1], 197f, 203f);   // JPEG: close, not exact
        Assert.Equal(3f, data.Images[4, 0, 1, 1]);
    }

    [Fact]
    public void LinkedSubfoldersAreNotFollowedSoALoopCannotHang()
    {
        using var dir = TwoClasses(1);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "a", "loop"), Path.Combine(dir.Path, "a"));
        var data = ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { Shuffle = false });
        Assert.Equal([0, 1], data.Labels);
    }

    [Fact]
    public void PixelsAreRgbChannelsLastAndTheDatasetViewIsChannelsFirst()
    {
        using var dir = new TempDirectory();
        // 2x3: pixel (y, x) has R = 10y + x, G = 100 + x, B = 200 + y.
        string path = Path.Combine(dir.Path, "only", "rgb.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestImages.WritePng(path, 2, 3, (y, x) => new SKColor((byte)(10 * y + x), (byte)(100 + x), (byte)(200 + y)));

        var data = ImageFolder.Load(dir.Path, (2, 3));

        Assert.Equal((2, 3, 3), (data.Height, data.Width, data.Channels));
        Assert.Equal(new float[]
        {
            0, 100, 200,   1, 101, 200,   2, 102, 200,
            10, 100, 201,  11, 101, 201,  12, 102, 201,
        }, data.Images.ToArray());

        var view = data.ToDataset();
        Assert.Equal(new Shape(3, 2, 3), view.SampleShape);
        var sample = new float[view.SampleShape.Length];
        Assert.Equal(0, view.CopySample(0, sample));
        float[] chw =
        [
            0, 1, 2, 10, 11, 12,              // R
            100, 101, 102, 100, 101, 102,     // G
            200, 200, 200, 201, 201, 201,     // B
        ];
        Assert.Equal(chw, sample);
        Assert.Equal(chw, data.GetImage(0).Pixels);
        // Caffe's default order is unchanged.
        Assert.Equal(200f, ImageFile.Load(path).Pixels[0]);
    }

    [Fact]
    public void ImagesOfMixedSizesAreResizedBilinearly()
    {
        using var dir = new TempDirectory();
        WriteImage(dir, "c", "small.png", 2, 2, new SKColor(7, 8, 9));
        // 4x6 in 2x2 blocks of one value each: a 2x reduction averages each block to that value.
        string path = Path.Combine(dir.Path, "c", "large.png");
        TestImages.WritePng(path, 4, 6, (y, x) => new SKColor((byte)(10 * (y / 2) + x / 2), 50, 60));
        WriteImage(dir, "d", "tall.png", 9, 1, new SKColor(40, 41, 42));

        var data = ImageFolder.Load(dir.Path, (2, 3), new ImageFolderOptions { Shuffle = false });

        Assert.Equal(new Shape(3, 2, 3, 3), data.Images.Shape);
        Assert.Equal(["large.png", "small.png", "tall.png"], data.FilePaths.Select(Path.GetFileName));
        var large = data.GetImage(0);
        Assert.Equal(new float[] { 0, 1, 2, 10, 11, 12 }, large.Pixels[..6]);
        Assert.All(large.Pixels[6..12], v => Assert.Equal(50f, v));
        // Upsampling a solid colour keeps it.
        Assert.All(data.GetImage(1).Pixels[..6], v => Assert.Equal(7f, v));
        Assert.All(data.GetImage(2).Pixels[12..], v => Assert.Equal(42f, v));
    }

    [Fact]
    public void SeededSplitIsDeterministicDisjointAndComplete()
    {
        using var dir = TwoClasses(10);
        var options = new ImageFolderOptions { ValidationSplit = 0.3, Subset = "training", Seed = 42 };

        var training = ImageFolder.Load(dir.Path, (2, 2), options);
        var validation = ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.3, Subset = "validation", Seed = 42 });

        Assert.Equal(14, training.Count);
        Assert.Equal(6, validation.Count);   // floor(0.3 · 20)
        Assert.Empty(training.FilePaths.Intersect(validation.FilePaths));
        var all = ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { Shuffle = false });
        Assert.Equal(all.FilePaths.Order(), training.FilePaths.Concat(validation.FilePaths).Order());

        // Labels and pixels travel with their files.
        for (int i = 0; i < validation.Count; i++)
        {
            int label = validation.Labels[i];
            Assert.Equal(validation.FilePaths[i].Contains($"{Path.DirectorySeparatorChar}b{Path.DirectorySeparatorChar}") ? 1 : 0, label);
            int value = 100 + int.Parse(Path.GetFileNameWithoutExtension(validation.FilePaths[i]));
            Assert.Equal(value, validation.Images[i, 0, 0, label == 0 ? 0 : 2]);
        }

        // The same seed repeats the split and the order; LoadSplit gives the same two subsets.
        Assert.Equal(training.FilePaths, ImageFolder.Load(dir.Path, (2, 2), options).FilePaths);
        var (t2, v2) = ImageFolder.LoadSplit(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.3, Seed = 42 });
        Assert.Equal(training.FilePaths, t2.FilePaths);
        Assert.Equal(validation.FilePaths, v2.FilePaths);
        Assert.Equal(training.Images.ToArray(), t2.Images.ToArray());
        // Another seed, another order.
        Assert.NotEqual(training.FilePaths, ImageFolder.Load(dir.Path, (2, 2), options with { Seed = 7 }).FilePaths);
    }

    [Fact]
    public void WithoutShufflingTheValidationSubsetIsTheLastFiles()
    {
        using var dir = TwoClasses(5);
        var (training, validation) = ImageFolder.LoadSplit(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.2, Shuffle = false });
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], training.Labels);
        Assert.Equal(["03.png", "04.png"], validation.FilePaths.Select(Path.GetFileName));
        Assert.Equal([1, 1], validation.Labels);
    }

    [Fact]
    public void InconsistentSplitOptionsAreRefusedAsKerasRefusesThem()
    {
        using var dir = TwoClasses(2);
        var noSeed = Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.5, Subset = "training" }));
        Assert.Contains("Seed", noSeed.Message);
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { Subset = "training", Seed = 1 }));
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.5, Seed = 1 }));
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 1.5, Subset = "training", Seed = 1 }));
        Assert.Contains("\"train\"", Assert.Throws<ArgumentException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.5, Subset = "train", Seed = 1 })).Message);
        var tiny = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ValidationSplit = 0.1, Subset = "validation", Seed = 1 }));
        Assert.Contains("no validation", tiny.Message);
    }

    [Fact]
    public void ClassNamesOptionChoosesAndOrdersTheClasses()
    {
        using var dir = TwoClasses(2);
        var data = ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { Shuffle = false, ClassNames = ["b", "a"] });
        Assert.Equal(["b", "a"], data.ClassNames);
        Assert.Equal([0, 0, 1, 1], data.Labels);
        Assert.Equal(100f, data.Images[0, 0, 0, 2]);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(dir.Path, (2, 2), new ImageFolderOptions { ClassNames = ["a", "c"] }));
        Assert.Contains(Path.Combine(dir.Path, "c"), missing.Message);
    }

    [Fact]
    public void FolderErrorsNameTheFolder()
    {
        using var dir = new TempDirectory();
        string absent = Path.Combine(dir.Path, "absent");
        Assert.Contains(absent, Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(absent, (2, 2))).Message);

        File.WriteAllText(Path.Combine(dir.Path, "loose.png"), "images must be in class folders");
        var noClasses = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, (2, 2)));
        Assert.Contains(dir.Path, noClasses.Message);
        Assert.Contains("no class folders", noClasses.Message);

        WriteImage(dir, "cats", "c.png", 2, 2, SKColors.Gray);
        Directory.CreateDirectory(Path.Combine(dir.Path, "dogs"));
        File.WriteAllText(Path.Combine(dir.Path, "dogs", "readme.txt"), "no images here");
        var empty = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, (2, 2)));
        Assert.Contains(Path.Combine(dir.Path, "dogs"), empty.Message);
        Assert.Contains("'dogs'", empty.Message);
    }

    [Fact]
    public void CorruptImageErrorNamesTheFile()
    {
        using var dir = TwoClasses(2);
        string garbage = Path.Combine(dir.Path, "b", "garbage.png");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8]);
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, (2, 2)));
        Assert.Contains(garbage, e.Message);
        Assert.Contains("'b'", e.Message);
        File.Delete(garbage);

        string truncated = Path.Combine(dir.Path, "a", "truncated.jpg");
        var jpeg = TestImages.Encode(16, 16, (y, x) => new SKColor((byte)(y * 16), (byte)(x * 16), 0), SKEncodedImageFormat.Jpeg);
        File.WriteAllBytes(truncated, jpeg[..(jpeg.Length / 2)]);
        Assert.Contains(truncated, Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, (2, 2))).Message);
    }

    /// <summary>A 2-channel 3x4 image whose value at (c, y, x) is 100c + 10y + x.</summary>
    private static Image Numbered(int height = 3, int width = 4)
    {
        var image = new Image(2, height, width);
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    image[c, y, x] = 100 * c + 10 * y + x;
        return image;
    }

    [Fact]
    public void FlipMirrorsEveryChannel()
    {
        var image = Numbered();
        var h = RandomFlip.Flip(image, horizontal: true, vertical: false);
        var v = RandomFlip.Flip(image, horizontal: false, vertical: true);
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    Assert.Equal(100 * c + 10 * y + (3 - x), h[c, y, x]);
                    Assert.Equal(100 * c + 10 * (2 - y) + x, v[c, y, x]);
                }

        var always = new RandomFlip(probability: 1).Apply(image, new Generator(1));
        Assert.Equal(h.Pixels, always.Pixels);
        Assert.Same(image, new RandomFlip(probability: 0).Apply(image, new Generator(1)));
    }

    [Fact]
    public void RandomFlipFlipsAboutHalfTheImagesRepeatablyForASeed()
    {
        var image = Numbered();
        var flip = new RandomFlip();
        bool[] Draw(ulong seed)
        {
            var generator = new Generator(seed);
            return [.. Enumerable.Range(0, 400).Select(_ => flip.Apply(image, generator)[0, 0, 0] == 3f)];
        }
        var first = Draw(5);
        Assert.Equal(first, Draw(5));
        Assert.InRange(first.Count(f => f), 160, 240);
    }

    [Fact]
    public void RandomCropCutsAWindowAndReachesEveryOffset()
    {
        var image = Numbered(5, 6);
        var crop = new RandomCrop(3, 4);
        Assert.Equal((3, 4), crop.OutputSize(5, 6));
        var generator = new Generator(11);
        var offsets = new HashSet<(int, int)>();
        for (int i = 0; i < 200; i++)
        {
            var window = crop.Apply(image, generator);
            Assert.Equal((2, 3, 4), (window.Channels, window.Height, window.Width));
            int top = (int)window[0, 0, 0] / 10, left = (int)window[0, 0, 0] % 10;
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 4; x++)
                        Assert.Equal(100 * c + 10 * (top + y) + left + x, window[c, y, x]);
            offsets.Add((top, left));
        }
        Assert.Equal(3 * 3, offsets.Count);   // tops 0..2, lefts 0..2
        Assert.Throws<ArgumentException>(() => new RandomCrop(6, 4).Apply(image, generator));
        Assert.Equal(new float[] { 12, 13, 22, 23 }, RandomCrop.Crop(image, 1, 2, 2, 2).Pixels[..4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomCrop.Crop(image, 3, 0, 3, 4));
    }

    [Fact]
    public void TransformsApplyPerSampleThroughTheDatasetAndPerBatch()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "only", "n.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestImages.WritePng(path, 4, 4, (y, x) => new SKColor((byte)(10 * y + x), 0, 0));
        var data = ImageFolder.Load(dir.Path, (4, 4));

        var transform = new ComposedTransform(new RandomFlip(probability: 1), new RandomCrop(2, 3));
        var view = data.ToDataset(transform, new Generator(3));
        Assert.Equal(new Shape(3, 2, 3), view.SampleShape);
        var batch = new DataLoader(view, batchSize: 1, prefetch: 0).First();
        Assert.Equal(new Shape(1, 3, 2, 3), batch.Images.Shape);
        // Mirrored, then cut: each row runs right to left.
        float corner = batch.Images[0, 0, 0, 0];
        Assert.Equal(corner - 1, batch.Images[0, 0, 0, 1]);
        Assert.Equal(corner + 10, batch.Images[0, 0, 1, 0]);

        // Channels-last batch: the same draws give the same images as one by one.
        var flipped = new RandomFlip(probability: 1).ApplyToBatch(data.Images, new Generator(1));
        Assert.Equal(data.Images.Shape, flipped.Shape);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(10 * y + 3 - x, flipped[0, y, x, 0]);
        var cropped = new RandomCrop(2, 2).ApplyToBatch(data.Images, new Generator(9));
        var expected = new RandomCrop(2, 2).Apply(data.GetImage(0), new Generator(9));
        Assert.Equal(new Shape(1, 2, 2, 3), cropped.Shape);
        Assert.Equal(expected[0, 1, 1], cropped[0, 1, 1, 0]);
        Assert.Throws<ArgumentNullException>(() => data.ToDataset(transform));
    }
}
