using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Data;
using Google.Protobuf;
using LightningDB;

namespace Backprop.Tests.Caffe.Lmdb;

public class LmdbTests
{
    [Fact]
    public void NativeLibraryLoads()
    {
        string version = LmdbLibrary.Initialize();
        Assert.StartsWith("LMDB ", version);
        using var dir = new ScratchDirectory();
        using var environment = new LightningEnvironment(dir.Path);
        environment.Open();
        Assert.StartsWith(environment.Version.Version, version);
        using var transaction = environment.BeginTransaction();
        var database = transaction.OpenDatabase();
        transaction.Put(database, "k"u8.ToArray(), "v"u8.ToArray()).ThrowOnError();
        Assert.Equal(1, transaction.GetEntriesCount(database));
    }

    /// <summary>n images of rows x cols whose pixel p of image i is (i * 31 + p) % 256, and labels (i * 3) % 10.</summary>
    private static (string Images, string Labels) TinyMnist(ScratchDirectory dir, int n, int rows = 28, int cols = 28, bool gzip = false, string prefix = "")
    {
        var pixels = new byte[n * rows * cols];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < rows * cols; p++) pixels[i * rows * cols + p] = (byte)((i * 31 + p) % 256);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i * 3 % 10)).ToArray();
        byte[] images = IdxBytes.Build(0x08, [n, rows, cols], pixels), labelFile = IdxBytes.Build(0x08, [n], labels);
        return (dir.Write(prefix + "images-idx3-ubyte" + (gzip ? ".gz" : ""), gzip ? IdxBytes.Gzip(images) : images),
                dir.Write(prefix + "labels-idx1-ubyte", labelFile));
    }

    [Fact]
    public void ConvertedMnistReadsBackRecordForRecord()
    {
        using var dir = new ScratchDirectory();
        var (images, labels) = TinyMnist(dir, 5, gzip: true);
        string output = dir.File("mnist_train_lmdb");
        var committed = new List<int>();

        int written = MnistToLmdb.Convert(images, labels, output, progress: new ListProgress(committed));

        Assert.Equal(5, written);
        Assert.Equal([5], committed);
        Assert.True(File.Exists(Path.Combine(output, "data.mdb")));
        Assert.Equal(["mnist_train_lmdb"], Directory.GetFileSystemEntries(dir.Path, "*lmdb*").Select(Path.GetFileName)); // no temporary left
        using var reader = new LmdbDatumReader(output);
        Assert.Equal(5, reader.Count);
        var records = reader.Records().ToList();
        Assert.Equal(["00000000", "00000001", "00000002", "00000003", "00000004"], records.Select(r => r.Key));
        for (int i = 0; i < 5; i++)
        {
            var datum = records[i].Datum;
            Assert.Equal((1, 28, 28), (datum.Channels, datum.Height, datum.Width));
            Assert.Equal(i * 3 % 10, datum.Label);
            Assert.Equal(Enumerable.Range(0, 784).Select(p => (byte)((i * 31 + p) % 256)), datum.Data.ToByteArray());
            Assert.Empty(datum.FloatData);
            Assert.False(datum.HasEncoded);
        }
    }

    [Fact]
    public void DatumBytesAreWhatCaffeSerializes()
    {
        // Caffe's converter sets channels, height, width, data and label, so the wire bytes are
        // 08 01 | 10 1c | 18 1c | 22 90 06 <784 bytes> | 28 <label>: 795 bytes, label 0 included.
        var pixels = Enumerable.Range(0, 784).Select(p => (byte)p).ToArray();
        byte[] wire = MnistToLmdb.MakeDatum(pixels, 28, 28, 0).ToByteArray();
        Assert.Equal(795, wire.Length);
        Assert.Equal(new byte[] { 0x08, 0x01, 0x10, 0x1c, 0x18, 0x1c, 0x22, 0x90, 0x06 }, wire[..9]);
        Assert.Equal(pixels, wire[9..793]);
        Assert.Equal(new byte[] { 0x28, 0x00 }, wire[793..]);
        Assert.Equal("00000000", MnistToLmdb.Key(0));
        Assert.Equal("00001234", MnistToLmdb.Key(1234));
        Assert.Equal("123456789", MnistToLmdb.Key(123456789));
    }

    [Fact]
    public void LargerConversionCommitsInThousandsAndKeepsKeyOrder()
    {
        using var dir = new ScratchDirectory();
        var (images, labels) = TinyMnist(dir, 2500, rows: 2, cols: 3);
        var committed = new List<int>();
        MnistToLmdb.Convert(images, labels, dir.File("db"), progress: new ListProgress(committed));
        Assert.Equal([1000, 2000, 2500], committed);

        using var reader = new LmdbDatumReader(dir.File("db"));
        Assert.Equal(2500, reader.Count);
        int i = 0;
        foreach (var record in reader.Records())
        {
            Assert.Equal(MnistToLmdb.Key(i), record.Key);
            Assert.Equal((1, 2, 3), (record.Datum.Channels, record.Datum.Height, record.Datum.Width));
            Assert.Equal(i * 3 % 10, record.Datum.Label);
            i++;
        }
        Assert.Equal(2500, i);
    }

    [Fact]
    public void CursorCyclesBackToTheFirstRecord()
    {
        using var dir = new ScratchDirectory();
        var (images, labels) = TinyMnist(dir, 3, rows: 1, cols: 1);
        MnistToLmdb.Convert(images, labels, dir.File("db"));
        using var reader = new LmdbDatumReader(dir.File("db"));

        using (var cursor = reader.CreateCursor())
        {
            var keys = Enumerable.Range(0, 7).Select(_ => cursor.Next().Key).ToList();
            Assert.Equal(["00000000", "00000001", "00000002", "00000000", "00000001", "00000002", "00000000"], keys);
            Assert.Equal(2, cursor.Wraps);
        }
        using (var once = reader.CreateCursor(cycle: false))
        {
            for (int i = 0; i < 3; i++) Assert.True(once.TryNext(out _));
            Assert.False(once.TryNext(out _));
            Assert.Throws<InvalidOperationException>(() => once.Next());
            once.Reset();
            Assert.Equal("00000000", once.Next().Key);
        }
    }

    [Fact]
    public void MissingDirectoryErrorNamesThePathAndHowToMakeIt()
    {
        using var dir = new ScratchDirectory();
        string missing = dir.File("no_such_lmdb");
        var e = Assert.Throws<DirectoryNotFoundException>(() => new LmdbDatumReader(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("backprop convert-mnist", e.Message);
    }

    [Fact]
    public void DirectoryThatIsNotAnLmdbGivesAClearError()
    {
        using var dir = new ScratchDirectory();
        string empty = Directory.CreateDirectory(dir.File("empty")).FullName;
        var e = Assert.Throws<InvalidDataException>(() => new LmdbDatumReader(empty));
        Assert.Contains(empty, e.Message);
        Assert.Contains("no data.mdb", e.Message);
        Assert.Contains("backprop convert-mnist", e.Message);

        string garbage = Directory.CreateDirectory(dir.File("garbage")).FullName;
        File.WriteAllBytes(Path.Combine(garbage, "data.mdb"), Enumerable.Repeat((byte)0x5A, 16384).ToArray());
        e = Assert.Throws<InvalidDataException>(() => new LmdbDatumReader(garbage));
        Assert.Contains(garbage, e.Message);
        Assert.True(e.Message.Contains("not an LMDB database"), e.Message);

        string file = dir.Write("plain-file", [1, 2, 3]);
        e = Assert.Throws<InvalidDataException>(() => new LmdbDatumReader(file));
        Assert.Contains("is a file", e.Message);
    }

    [Fact]
    public void RecordThatIsNotADatumNamesItsKey()
    {
        using var dir = new ScratchDirectory();
        string path = dir.File("db");
        Directory.CreateDirectory(path);
        LmdbLibrary.Initialize();
        using (var environment = new LightningEnvironment(path))
        {
            environment.Open();
            using var transaction = environment.BeginTransaction();
            var database = transaction.OpenDatabase();
            transaction.Put(database, "00000000"u8.ToArray(), new Datum { Label = 4 }.ToByteArray()).ThrowOnError();
            transaction.Put(database, "00000001"u8.ToArray(), new byte[] { 0xFF, 0xFF, 0xFF }).ThrowOnError();
            transaction.Commit().ThrowOnError();
        }
        using var reader = new LmdbDatumReader(path);
        using var cursor = reader.CreateCursor();
        Assert.Equal(4, cursor.Next().Datum.Label);
        var e = Assert.Throws<InvalidDataException>(() => cursor.Next());
        Assert.Contains("'00000001'", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ExistingOutputIsNotOverwrittenUnlessAsked()
    {
        using var dir = new ScratchDirectory();
        var (images, labels) = TinyMnist(dir, 2, rows: 1, cols: 2);
        string output = dir.File("db");
        MnistToLmdb.Convert(images, labels, output);

        var e = Assert.Throws<IOException>(() => MnistToLmdb.Convert(images, labels, output));
        Assert.Contains("not empty", e.Message);

        var (moreImages, moreLabels) = TinyMnist(dir, 4, rows: 1, cols: 2, prefix: "more-");
        Assert.Equal(4, MnistToLmdb.Convert(moreImages, moreLabels, output, overwrite: true));
        using (var reader = new LmdbDatumReader(output)) Assert.Equal(4, reader.Count);

        string notLmdb = Directory.CreateDirectory(dir.File("mine")).FullName;
        File.WriteAllText(Path.Combine(notLmdb, "notes.txt"), "keep me");
        e = Assert.Throws<IOException>(() => MnistToLmdb.Convert(images, labels, notLmdb, overwrite: true));
        Assert.Contains("notes.txt", e.Message);
        Assert.True(File.Exists(Path.Combine(notLmdb, "notes.txt")));

        string emptyDir = Directory.CreateDirectory(dir.File("empty")).FullName;
        Assert.Equal(2, MnistToLmdb.Convert(images, labels, emptyDir));
    }

    [Fact]
    public void MismatchedIdxPairIsRejectedBeforeWriting()
    {
        using var dir = new ScratchDirectory();
        string images = dir.Write("i", IdxBytes.Build(0x08, [3, 1, 1], [1, 2, 3]));
        string labels = dir.Write("l", IdxBytes.Build(0x08, [2], [1, 2]));
        var e = Assert.Throws<InvalidDataException>(() => MnistToLmdb.Convert(images, labels, dir.File("db")));
        Assert.Contains("3 images", e.Message);
        Assert.False(Directory.Exists(dir.File("db")));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length + Directory.GetDirectories(dir.Path).Length);
    }

    private sealed class ListProgress(List<int> values) : IProgress<int>
    {
        public void Report(int value) => values.Add(value);
    }
}
