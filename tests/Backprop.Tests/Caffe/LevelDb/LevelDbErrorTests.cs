using Backprop.Caffe;
using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;

namespace Backprop.Tests.Caffe.LevelDb;

/// <summary>Missing, foreign, damaged and locked LevelDB databases give errors that name the database.</summary>
public sealed class LevelDbErrorTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string WriteDatabase(string name, int count = 20)
    {
        var pixels = new byte[count * 3 * 8 * 8];
        new Random(3).NextBytes(pixels);   // random bytes: Snappy cannot shrink them, so damage lands in real values
        var labels = Enumerable.Range(0, count).Select(i => (byte)i).ToArray();
        ImagesToLevelDb.Write(pixels, labels, 3, 8, 8, dir.File(name));
        return dir.File(name);
    }

    private static CaffeNet DataNet(string source) => NetBuilderTests.Build($$"""
        layer { name: "data" type: "Data" top: "data" top: "label"
          data_param { source: "{{source}}" backend: LEVELDB batch_size: 2 } }
        """, Phase.Test);

    [Fact]
    public void AMissingDatabaseNamesItsPath()
    {
        string missing = dir.File("no_such_leveldb");
        var e = Assert.Throws<DirectoryNotFoundException>(() => DataNet(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("LevelDB", e.Message);
        Assert.False(Directory.Exists(missing));   // opening never creates the database
    }

    [Fact]
    public void ADirectoryThatIsNoLevelDbIsRefusedAndLeftAlone()
    {
        string empty = dir.File("empty");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<InvalidDataException>(() => new LevelDbDatumReader(empty));
        Assert.Contains(empty, e.Message);
        Assert.Contains("CURRENT", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(empty));

        string file = dir.File("a_file");
        File.WriteAllText(file, "x");
        Assert.Contains(file, Assert.Throws<InvalidDataException>(() => new LevelDbDatumReader(file)).Message);
    }

    [Fact]
    public void ADamagedManifestIsReportedAsDamageNamingThePath()
    {
        string path = WriteDatabase("db");
        string current = Path.Combine(path, "CURRENT");
        File.WriteAllText(current, "MANIFEST-999999\n");
        var e = Assert.Throws<InvalidDataException>(() => new LevelDbDatumReader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("MANIFEST-999999", e.Message);

        File.WriteAllText(current, "garbage without newline");
        var corrupt = Assert.Throws<InvalidDataException>(() => new LevelDbDatumReader(path));
        Assert.Contains(path, corrupt.Message);
        Assert.Contains("damaged", corrupt.Message);
    }

    [Fact]
    public void DamagedRecordsAreReportedThroughTheDataLayerNamingThePath()
    {
        string path = WriteDatabase("db");
        // Flip bytes in the middle of every file that holds records (the write-ahead log, or tables once compacted).
        foreach (string file in Directory.GetFiles(path).Where(f => f.EndsWith(".log", StringComparison.Ordinal) || f.EndsWith(".ldb", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(file);
            if (bytes.Length < 100) continue;
            for (int i = bytes.Length / 3; i < bytes.Length / 3 + 64; i++) bytes[i] ^= 0x5A;
            File.WriteAllBytes(file, bytes);
        }
        var e = Assert.Throws<InvalidDataException>(() => DataNet(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("damaged", e.Message);
    }

    [Fact]
    public void ASecondOpenWhileTheFirstHoldsTheDatabaseSaysItIsLocked()
    {
        string path = WriteDatabase("db");
        using (var first = new LevelDbDatumReader(path))
        {
            var e = Assert.Throws<IOException>(() => new LevelDbDatumReader(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("locked", e.Message);
            Assert.Contains("one process", e.Message);
        }
        using var again = new LevelDbDatumReader(path);   // closing released the lock
        Assert.Equal(20, again.Count);
    }

    [Fact]
    public void TheDataLayerClosesTheDatabaseAfterLoadingSoTwoNetsCanShareIt()
    {
        string path = WriteDatabase("db");
        var train = DataNet(path);
        var test = DataNet(path);
        Assert.Equal(train.BlobShapes["data"], test.BlobShapes["data"]);
        using var reader = new LevelDbDatumReader(path);
        Assert.Equal(20, reader.Count);
    }

    [Fact]
    public void TheMissingLibraryMessageNamesTheDebianPackage()
    {
        var e = Assert.Throws<DllNotFoundException>(() => LevelDbNative.Load(["libno-such-leveldb.so.9"]));
        Assert.Contains("libleveldb1d", e.Message);
        Assert.Contains("libno-such-leveldb.so.9", e.Message);
    }
}
