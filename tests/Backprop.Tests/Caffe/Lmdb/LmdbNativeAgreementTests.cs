using System.Text;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Data;
using Google.Protobuf;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>The managed LMDB reader against databases written by the native LMDB 0.9 library: the same records, bytes for bytes.</summary>
public class LmdbNativeAgreementTests
{
    private static void AssertSameRecords(string directory, int expectedCount)
    {
        var (native, entries) = NativeLmdb.Read(directory);
        var managed = ManagedLmdb.Read(directory);
        Assert.Equal(expectedCount, native.Count);
        Assert.Equal(expectedCount, entries);
        Assert.Equal(native.Count, managed.Count);
        for (int i = 0; i < native.Count; i++)
        {
            Assert.True(native[i].Key.AsSpan().SequenceEqual(managed[i].Key), $"key {i} differs");
            Assert.True(native[i].Value.AsSpan().SequenceEqual(managed[i].Value), $"value {i} ({native[i].Value.Length} bytes) differs");
        }
    }

    [Fact]
    public void LongKeysMakeADeepTreeThatReadsInKeyOrder()
    {
        // 200-byte keys leave room for ~19 children per 4 KiB branch page, so 3000 records need 3 or more levels.
        // Inserted in a shuffled order, so native LMDB splits pages in the middle as it goes.
        using var dir = new ScratchDirectory();
        var random = new Random(7);
        var records = Enumerable.Range(0, 3000)
            .Select(i => (Key: Encoding.ASCII.GetBytes(new string('k', 192) + i.ToString("D8")), Value: RandomBytes(random, random.Next(0, 120))))
            .OrderBy(_ => random.Next()).ToList();
        NativeLmdb.Write(dir.Path, records, perTransaction: 700);

        var meta = ManagedLmdb.Meta(dir.Path);
        Assert.True(meta.Depth >= 3, $"depth {meta.Depth}");
        AssertSameRecords(dir.Path, 3000);
    }

    [Fact]
    public void ValuesBiggerThanAPageComeFromOverflowPages()
    {
        // 3x64x64 Datums (12 KiB, four pages each), and values around the size where LMDB moves a value to overflow pages.
        using var dir = new ScratchDirectory();
        var random = new Random(3);
        var records = new List<(byte[] Key, byte[] Value)>();
        for (int i = 0; i < 60; i++)
        {
            var datum = new Datum { Channels = 3, Height = 64, Width = 64, Label = i % 10, Data = ByteString.CopyFrom(RandomBytes(random, 3 * 64 * 64)) };
            records.Add((Encoding.ASCII.GetBytes(MnistToLmdb.Key(i)), datum.ToByteArray()));
        }
        for (int size = 2000; size < 2100; size++) records.Add((Encoding.ASCII.GetBytes($"edge{size}"), RandomBytes(random, size)));
        NativeLmdb.Write(dir.Path, records);

        Assert.True(ManagedLmdb.Meta(dir.Path).OverflowPages >= 60 * 4);
        AssertSameRecords(dir.Path, records.Count);
        using var reader = new LmdbDatumReader(dir.Path);
        var first = reader.Records().First().Datum;
        Assert.Equal((3, 64, 64, 0), (first.Channels, first.Height, first.Width, first.Label));
        Assert.Equal(records[0].Value, first.ToByteArray());
    }

    [Fact]
    public void ConvertedMnistReadsAsNativeLmdbReadsIt()
    {
        using var dir = new ScratchDirectory();
        var pixels = Enumerable.Range(0, 1200 * 784).Select(p => (byte)(p * 7 % 251)).ToArray();
        string images = dir.Write("images", IdxBytes.Build(0x08, [1200, 28, 28], pixels));
        string labels = dir.Write("labels", IdxBytes.Build(0x08, [1200], Enumerable.Range(0, 1200).Select(i => (byte)(i % 10)).ToArray()));
        MnistToLmdb.Convert(images, labels, dir.File("db"));
        AssertSameRecords(dir.File("db"), 1200);
    }

    [Fact]
    public void AnEmptyDatabaseHasNoRecords()
    {
        using var dir = new ScratchDirectory();
        NativeLmdb.Write(dir.Path, []);
        using var reader = new LmdbDatumReader(dir.Path);
        Assert.Equal(0, reader.Count);
        using var cursor = reader.CreateCursor();
        Assert.False(cursor.TryNext(out _));
        Assert.Contains("has no records", Assert.Throws<InvalidOperationException>(() => cursor.Next()).Message);
    }

    [Fact]
    public void DeletedRecordsAreGoneAndCountsAgree()
    {
        // Deleting leaves freed pages and a free-page database behind: the reader must follow only the live tree.
        using var dir = new ScratchDirectory();
        var records = Enumerable.Range(0, 2000).Select(i => (Encoding.ASCII.GetBytes(MnistToLmdb.Key(i)), new byte[i % 300])).ToList();
        NativeLmdb.Write(dir.Path, records);
        NativeLmdb.Delete(dir.Path, records.Where((_, i) => i % 3 != 0).Select(r => r.Item1));
        AssertSameRecords(dir.Path, 667);
    }

    [Fact]
    public void ReadingMapsNoPartOfTheFile()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new ScratchDirectory();
        NativeLmdb.Write(dir.Path, Enumerable.Range(0, 500).Select(i => (Encoding.ASCII.GetBytes(MnistToLmdb.Key(i)), new Datum { Label = i }.ToByteArray())));
        using var reader = new LmdbDatumReader(dir.Path);
        using var cursor = reader.CreateCursor();
        Assert.Equal(0, cursor.Next().Datum.Label);
        // A mapping is what turned a truncated file into SIGBUS; positioned reads leave none.
        Assert.DoesNotContain(File.ReadLines("/proc/self/maps"), line => line.EndsWith(Path.Combine(dir.Path, "data.mdb"), StringComparison.Ordinal));
    }

    internal static byte[] RandomBytes(Random random, int n)
    {
        var bytes = new byte[n];
        random.NextBytes(bytes);
        return bytes;
    }
}
