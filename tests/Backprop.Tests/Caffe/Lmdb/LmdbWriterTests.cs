using System.Text;
using Backprop.Caffe.Lmdb;
using Backprop.Tests.Data;
using LightningDB;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>The managed LMDB writer: native LMDB 0.9 reads its files record for record, and can go on writing them.</summary>
public class LmdbWriterTests
{
    private static void WriteManaged(string directory, IEnumerable<(byte[] Key, byte[] Value)> records)
    {
        Directory.CreateDirectory(directory);
        using var writer = new LmdbWriter(Path.Combine(directory, "data.mdb"));
        foreach (var (key, value) in records) writer.Add(key, value);
        writer.Complete();
    }

    private static void AssertNativeReadsBack(string directory, List<(byte[] Key, byte[] Value)> records)
    {
        var (native, entries) = NativeLmdb.Read(directory);
        Assert.Equal(records.Count, entries);
        Assert.Equal(records.Count, native.Count);
        var managed = ManagedLmdb.Read(directory);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.True(records[i].Key.AsSpan().SequenceEqual(native[i].Key) && records[i].Key.AsSpan().SequenceEqual(managed[i].Key), $"key {i} differs");
            Assert.True(records[i].Value.AsSpan().SequenceEqual(native[i].Value), $"native LMDB reads value {i} ({records[i].Value.Length} bytes) differently");
            Assert.True(records[i].Value.AsSpan().SequenceEqual(managed[i].Value), $"the managed reader reads value {i} differently");
        }
    }

    [Fact]
    public void DeepTreesOverflowValuesAndEdgeSizesReadBackNatively()
    {
        using var dir = new ScratchDirectory();
        var random = new Random(11);
        var records = new List<(byte[] Key, byte[] Value)>();
        for (int i = 0; i < 4000; i++)
        {
            int size = i % 97 == 0 ? 3 * 64 * 64 + 20 : i % 13 == 0 ? 2000 + i % 100 : random.Next(0, 200);
            records.Add((Encoding.ASCII.GetBytes(new string('k', 150) + i.ToString("D8")), LmdbNativeAgreementTests.RandomBytes(random, size)));
        }
        records.Add((Encoding.ASCII.GetBytes(new string('z', 511)), LmdbNativeAgreementTests.RandomBytes(random, 70000)));
        WriteManaged(dir.Path, records);

        var meta = ManagedLmdb.Meta(dir.Path);
        Assert.True(meta.Depth >= 3, $"depth {meta.Depth}");
        Assert.True(meta.OverflowPages > 0);
        AssertNativeReadsBack(dir.Path, records);
    }

    [Fact]
    public void NativeLmdbCanAddToAManagedFile()
    {
        using var dir = new ScratchDirectory();
        var records = Enumerable.Range(0, 1500).Select(i => (Encoding.ASCII.GetBytes(MnistToLmdb.Key(2 * i)), new byte[i % 50 + 1])).ToList();
        WriteManaged(dir.Path, records);
        var more = Enumerable.Range(0, 300).Select(i => (Encoding.ASCII.GetBytes(MnistToLmdb.Key(2 * i + 1)), new byte[5000])).ToList();
        NativeLmdb.Write(dir.Path, more);

        var all = records.Concat(more).OrderBy(r => Encoding.ASCII.GetString(r.Item1), StringComparer.Ordinal).ToList();
        AssertNativeReadsBack(dir.Path, all);
        using var reader = new LmdbDatumReader(dir.Path);
        Assert.Equal(1800, reader.Count);
    }

    [Fact]
    public void EmptyAndSingleRecordDatabases()
    {
        using var dir = new ScratchDirectory();
        WriteManaged(dir.File("empty"), []);
        AssertNativeReadsBack(dir.File("empty"), []);
        WriteManaged(dir.File("one"), [("k"u8.ToArray(), "v"u8.ToArray())]);
        AssertNativeReadsBack(dir.File("one"), [("k"u8.ToArray(), "v"u8.ToArray())]);
    }

    [Fact]
    public void KeysOutOfOrderOrTooLongAreRefused()
    {
        using var dir = new ScratchDirectory();
        using var writer = new LmdbWriter(dir.File("data.mdb"));
        writer.Add("b"u8, []);
        Assert.Throws<ArgumentException>(() => writer.Add("a"u8, []));
        Assert.Throws<ArgumentException>(() => writer.Add("b"u8, []));
        Assert.Throws<ArgumentException>(() => writer.Add(new byte[512], []));
        Assert.Throws<IOException>(() => new LmdbWriter(dir.File("data.mdb")));   // never over an existing file
    }

    [Fact]
    public void ConvertedMnistOpensWithTheNativeLibraryAsCaffeWould()
    {
        using var dir = new ScratchDirectory();
        string images = dir.Write("images", IdxBytes.Build(0x08, [3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
        string labels = dir.Write("labels", IdxBytes.Build(0x08, [3], [7, 8, 9]));
        MnistToLmdb.Convert(images, labels, dir.File("db"));
        Assert.Equal(["data.mdb", "lock.mdb"], Directory.GetFiles(dir.File("db")).Select(Path.GetFileName).Order());
        LmdbLibrary.Initialize();
        using var environment = new LightningEnvironment(dir.File("db"));
        environment.Open(EnvironmentOpenFlags.ReadOnly);
        using var transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
        Assert.Equal(3, transaction.GetEntriesCount(transaction.OpenDatabase()));
    }
}
