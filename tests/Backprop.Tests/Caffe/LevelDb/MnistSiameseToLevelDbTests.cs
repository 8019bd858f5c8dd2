using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Lmdb;
using Backprop.Tests.IO;

namespace Backprop.Tests.Caffe.LevelDb;

/// <summary>convert_mnist_siamese_data: one pair per image, 2 channels (image i then image j), label 1 for the same digit.</summary>
public sealed class MnistSiameseToLevelDbTests : IDisposable
{
    private const int Count = 12, Rows = 2, Cols = 2;
    private static readonly byte[] Digits = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2];
    private readonly TempDirectory dir = new();
    private readonly string images, labels;

    public MnistSiameseToLevelDbTests()
    {
        images = dir.File("images");
        labels = dir.File("labels");
        // Image k is four bytes k, k + 100, k + 200, 255 - k: distinct, so each half names its image.
        File.WriteAllBytes(images, [0, 0, 8, 3, 0, 0, 0, Count, 0, 0, 0, Rows, 0, 0, 0, Cols,
            .. Enumerable.Range(0, Count).SelectMany(k => new[] { (byte)k, (byte)(k + 100), (byte)(k + 200), (byte)(255 - k) })]);
        File.WriteAllBytes(labels, [0, 0, 8, 1, 0, 0, 0, Count, .. Digits]);
    }

    public void Dispose() => dir.Dispose();

    private List<(string Key, int I, int J, int Label, int Channels)> Pairs(string db)
    {
        using var reader = new LevelDbDatumReader(db);
        return [.. reader.Records().Select(r =>
        {
            var bytes = r.Datum.Data.ToByteArray();
            Assert.Equal((Rows, Cols, 2 * Rows * Cols), (r.Datum.Height, r.Datum.Width, bytes.Length));
            Assert.Equal([bytes[0] + 100, bytes[0] + 200, 255 - bytes[0]], bytes[1..4].Select(b => (int)b));
            Assert.Equal([bytes[4] + 100, bytes[4] + 200, 255 - bytes[4]], bytes[5..8].Select(b => (int)b));
            return (r.Key, (int)bytes[0], (int)bytes[4], r.Datum.Label, r.Datum.Channels);
        })];
    }

    [Fact]
    public void EachImageGivesOnePairLabelledByWhetherTheDigitsAreEqual()
    {
        Assert.Equal(Count, MnistSiameseToLevelDb.Convert(images, labels, dir.File("pairs"), seed: 7));
        var pairs = Pairs(dir.File("pairs"));
        Assert.Equal(Enumerable.Range(0, Count).Select(MnistToLmdb.Key), pairs.Select(p => p.Key));
        Assert.All(pairs, p => Assert.Equal(2, p.Channels));
        Assert.All(pairs, p => Assert.Equal(Digits[p.I] == Digits[p.J] ? 1 : 0, p.Label));
        Assert.Equal([0, 1], pairs.Select(p => p.Label).Distinct().Order());   // this seed gives both kinds
    }

    [Fact]
    public void TheSeedChoosesThePairs()
    {
        MnistSiameseToLevelDb.Convert(images, labels, dir.File("a"), seed: 1);
        MnistSiameseToLevelDb.Convert(images, labels, dir.File("b"), seed: 1);
        MnistSiameseToLevelDb.Convert(images, labels, dir.File("c"), seed: 2);
        Assert.Equal(Pairs(dir.File("a")), Pairs(dir.File("b")));
        Assert.NotEqual(Pairs(dir.File("a")), Pairs(dir.File("c")));
    }

    [Fact]
    public void MismatchedFilesAreRefusedBeforeAnythingIsWritten()
    {
        File.WriteAllBytes(labels, [0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2]);
        var error = Assert.Throws<InvalidDataException>(() => MnistSiameseToLevelDb.Convert(images, labels, dir.File("pairs"), seed: 0));
        Assert.Contains(labels, error.Message);
        Assert.False(Directory.Exists(dir.File("pairs")));
        Assert.Equal(2, Directory.GetFileSystemEntries(dir.Path).Length);
    }
}
