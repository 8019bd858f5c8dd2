using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.IO;
using Backprop.Vision;

namespace Backprop.Tests.Caffe.LevelDb;

/// <summary>convert_imageset and compute_image_mean over LevelDB, held against LMDB; the siamese MNIST pairs.</summary>
public sealed class LevelDbConverterTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string WriteImageList(params (int Height, int Width)[] sizes)
    {
        Directory.CreateDirectory(dir.File("img"));
        var lines = new List<string>();
        for (int k = 0; k < sizes.Length; k++)
        {
            var image = new Image(3, sizes[k].Height, sizes[k].Width);
            for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (k * 17 + i * 11) % 256;
            File.WriteAllBytes(dir.File($"img/{k}.png"), ImageEncoding.Encode(image, "png"));
            lines.Add($"img/{k}.png {k}");
        }
        string list = dir.File("list.txt");
        File.WriteAllLines(list, lines);
        return list;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesetToLevelDbWritesTheLmdbsKeysAndRecords(bool encoded)
    {
        string list = WriteImageList((3, 4), (3, 4), (3, 4));
        string leveldb = dir.File("leveldb"), lmdb = dir.File("lmdb");
        var options = new ImagesetOptions { Encoded = encoded, Shuffle = true, Seed = 3 };
        Assert.Equal(3, ImagesetToLmdb.Convert(dir.Path, list, leveldb, options with { Backend = DataParameter.Types.DB.Leveldb }).Written);
        ImagesetToLmdb.Convert(dir.Path, list, lmdb, options);
        using var levelDbReader = new LevelDbDatumReader(leveldb);
        using var lmdbReader = new LmdbDatumReader(lmdb);
        Assert.Equal(lmdbReader.Records().Select(r => (r.Key, r.Datum)), levelDbReader.Records().Select(r => (r.Key, r.Datum)));
        Assert.All(levelDbReader.Records(), r => Assert.EndsWith(".png", r.Key));
    }

    [Fact]
    public void AFailedImagesetToLevelDbLeavesNothingBehind()
    {
        string list = WriteImageList((3, 4), (5, 4));
        string output = dir.File("out_leveldb");
        var options = new ImagesetOptions { CheckSize = true, Backend = DataParameter.Types.DB.Leveldb };
        var error = Assert.Throws<InvalidDataException>(() => ImagesetToLmdb.Convert(dir.Path, list, output, options));
        Assert.Contains("--check_size", error.Message);
        Assert.Equal(["img", "list.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void AnExistingLevelDbIsReplacedOnlyWithOverwrite()
    {
        string list = WriteImageList((3, 4), (3, 4));
        string output = dir.File("out_leveldb");
        var options = new ImagesetOptions { Backend = DataParameter.Types.DB.Leveldb };
        ImagesetToLmdb.Convert(dir.Path, list, output, options);
        Assert.Contains(output, Assert.Throws<IOException>(() => ImagesetToLmdb.Convert(dir.Path, list, output, options)).Message);
        Assert.Equal(2, ImagesetToLmdb.Convert(dir.Path, list, output, options with { Overwrite = true }).Written);
        using var reader = new LevelDbDatumReader(output);
        Assert.Equal(2, reader.Count);
    }

    [Fact]
    public void TheMeanOfALevelDbIsTheMeanOfTheSameLmdb()
    {
        var pixels = new byte[5 * 2 * 3 * 3];
        new Random(4).NextBytes(pixels);
        byte[] labels = [0, 1, 2, 3, 4];
        ImagesToLevelDb.Write(pixels, labels, 2, 3, 3, dir.File("leveldb"));
        ImagesToLmdb.Write(pixels, labels, 2, 3, 3, dir.File("lmdb"));
        var fromLevelDb = ImageMeanComputation.FromLevelDb(dir.File("leveldb"));
        Assert.Equal((2, 3, 3), (fromLevelDb.Channels, fromLevelDb.Height, fromLevelDb.Width));
        Assert.Equal(ImageMeanComputation.FromLmdb(dir.File("lmdb")).Values, fromLevelDb.Values);
        Assert.Equal(Enumerable.Range(0, 18).Select(i => Enumerable.Range(0, 5).Sum(n => (float)pixels[n * 18 + i]) / 5), fromLevelDb.Values);
    }

    [Fact]
    public void AnEmptyLevelDbHasNoMean()
    {
        ImagesToLevelDb.Write([], [], 1, 2, 2, dir.File("empty"));
        var error = Assert.Throws<InvalidDataException>(() => ImageMeanComputation.FromLevelDb(dir.File("empty")));
        Assert.Contains($"The LevelDB database '{dir.File("empty")}' holds no records", error.Message);
    }
}
