using System.Buffers.Binary;
using System.Text;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Data;
using Google.Protobuf;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>
/// A small database written by native LMDB 0.9 in one transaction (so every page is live: branch pages, leaf pages
/// and overflow runs), the page layout of its bytes, and the check every damaged copy must pass: it reads as before,
/// or it fails with an <see cref="InvalidDataException"/> that names the file.
/// </summary>
internal static class LmdbDamage
{
    public const int PageSize = 4096;

    private static readonly Lazy<(byte[] Bytes, List<string> Keys)> Built = new(Build);

    /// <summary>The fixture's data.mdb bytes (a fresh copy to damage).</summary>
    public static byte[] Bytes() => (byte[])Built.Value.Bytes.Clone();

    /// <summary>The fixture's keys, in order.</summary>
    public static IReadOnlyList<string> Keys => Built.Value.Keys;

    private static (byte[], List<string>) Build()
    {
        using var dir = new ScratchDirectory();
        var records = Enumerable.Range(0, 400).Select(i =>
        {
            // 60-byte keys fill branch pages fast; every 7th value takes two overflow pages.
            var key = Encoding.ASCII.GetBytes(new string('k', 52) + MnistToLmdb.Key(i));
            var datum = new Datum { Channels = 1, Height = 1, Width = i % 7 == 0 ? 5000 : 40, Label = i % 10 };
            datum.Data = ByteString.CopyFrom(new byte[datum.Width]);
            return (key, datum.ToByteArray());
        }).ToList();
        NativeLmdb.Write(dir.Path, records, perTransaction: int.MaxValue);
        return (File.ReadAllBytes(Path.Combine(dir.Path, "data.mdb")), records.Select(r => Encoding.ASCII.GetString(r.key)).ToList());
    }

    public static ushort Flags(byte[] bytes, long pgno) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(pgno * PageSize) + 10));

    /// <summary>Page numbers whose header has exactly the type <paramref name="type"/> (1 branch, 2 leaf, 4 overflow).</summary>
    public static List<int> PagesOfType(byte[] bytes, ushort type) =>
        Enumerable.Range(2, bytes.Length / PageSize - 2).Where(p => (Flags(bytes, p) & 0x3F) == type).ToList();

    /// <summary>The byte offset in the file of node <paramref name="i"/> of page <paramref name="pgno"/>.</summary>
    public static int NodeAt(byte[] bytes, int pgno, int i) =>
        pgno * PageSize + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(pgno * PageSize + 16 + 2 * i));

    /// <summary>The byte offset of the newer meta page's body (its magic number).</summary>
    public static int NewerMeta(byte[] bytes) =>
        BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(PageSize + 16 + 128)) > BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16 + 128))
            ? PageSize + 16 : 16;

    /// <summary>Root page number of the main tree, from the newer meta page.</summary>
    public static int Root(byte[] bytes) => (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(NewerMeta(bytes) + 24 + 48 + 40));

    /// <summary>Reads every record of <paramref name="bytes"/> as a data.mdb; returns null if it read as the fixture, else the exception.</summary>
    /// <remarks>Any exception other than InvalidDataException, or one that does not name the file, fails the test.</remarks>
    public static InvalidDataException? Read(ScratchDirectory dir, byte[] bytes)
    {
        string data = Path.Combine(dir.Path, "data.mdb");
        File.WriteAllBytes(data, bytes);
        try
        {
            using var reader = new LmdbDatumReader(dir.Path);
            var keys = reader.Records().Select(r => r.Key).ToList();
            Assert.Equal(keys.Count, reader.Count);
            return null;
        }
        catch (InvalidDataException e)
        {
            Assert.True(e.Message.Contains(data) || e.Message.Contains(dir.Path), $"the message does not name the database: {e.Message}");
            return e;
        }
    }

    /// <summary>Reads a damaged copy that must be refused; returns the message.</summary>
    public static string Refused(byte[] bytes)
    {
        using var dir = new ScratchDirectory();
        var e = Read(dir, bytes);
        Assert.NotNull(e);
        return e.Message;
    }
}
