using System.Buffers.Binary;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>Damaged LMDB files: each gives an InvalidDataException that names data.mdb and says what is wrong.</summary>
public class LmdbCorruptionTests
{
    private const int P = LmdbDamage.PageSize;

    [Fact]
    public void TheFixtureHasEveryKindOfPageAndReadsWhole()
    {
        var bytes = LmdbDamage.Bytes();
        Assert.NotEmpty(LmdbDamage.PagesOfType(bytes, 1));
        Assert.True(LmdbDamage.PagesOfType(bytes, 2).Count > 10);
        Assert.NotEmpty(LmdbDamage.PagesOfType(bytes, 4));
        using var dir = new Backprop.Tests.Data.ScratchDirectory();
        Assert.Null(LmdbDamage.Read(dir, bytes));
    }

    [Fact]
    public void EveryTruncationIsACleanError()
    {
        var bytes = LmdbDamage.Bytes();
        var cuts = new SortedSet<int> { 0, 1, 15, 151, 152, P - 1, P, P + 151, 2 * P - 1 };
        for (int page = 2; page < bytes.Length / P; page++)
            foreach (int within in new[] { 0, 16, P / 2, P - 1 }) cuts.Add(page * P + within);
        using var dir = new Backprop.Tests.Data.ScratchDirectory();
        foreach (int cut in cuts)
        {
            var e = LmdbDamage.Read(dir, bytes[..cut]);
            Assert.True(e is not null, $"a file cut at byte {cut} of {bytes.Length} read without error");
        }
        Assert.Contains("too short", LmdbDamage.Refused(bytes[..100]));
        Assert.Contains("truncated", LmdbDamage.Refused(bytes[..(bytes.Length - P)]));
    }

    [Fact]
    public void EveryPageHeaderByteFlippedReadsOrFailsCleanly()
    {
        var original = LmdbDamage.Bytes();
        using var dir = new Backprop.Tests.Data.ScratchDirectory();
        int refused = 0;
        for (int page = 0; page < original.Length / P; page++)
            for (int at = 0; at < 16; at++)
            {
                var bytes = (byte[])original.Clone();
                bytes[page * P + at] ^= 0xA5;
                if (LmdbDamage.Read(dir, bytes) is not null) refused++;
            }
        // At least the page number (8 bytes) and the type byte of every branch, leaf and overflow page are checked.
        int typed = new ushort[] { 1, 2, 4 }.Sum(type => LmdbDamage.PagesOfType(original, type).Count);
        Assert.True(refused >= 9 * typed, $"only {refused} damaged headers of {typed} typed pages were noticed");
    }

    [Fact]
    public void ALeafWhereABranchIsExpectedIsNamed()
    {
        var bytes = LmdbDamage.Bytes();
        int leaf = LmdbDamage.PagesOfType(bytes, 2)[3];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(leaf * P + 10), 0x01);
        string message = LmdbDamage.Refused(bytes);
        Assert.Contains($"page {leaf} is a branch page, but child", message);
        Assert.Contains("should be a leaf page", message);
    }

    [Fact]
    public void PageNumberCyclesAreCaught()
    {
        var bytes = LmdbDamage.Bytes();
        int root = LmdbDamage.Root(bytes);
        Assert.Equal(0x01, LmdbDamage.Flags(bytes, root));
        // The root's second child made to point back at the root, then at the first child.
        int child1 = LmdbDamage.NodeAt(bytes, root, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(child1), (uint)root);
        Assert.Contains($"page {root} is reached a second time", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(LmdbDamage.NodeAt(bytes, root, 0)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(child1), first);
        Assert.Contains("two parents", LmdbDamage.Refused(bytes));
    }

    [Fact]
    public void HugeOrShortOverflowRunsAreRefused()
    {
        var bytes = LmdbDamage.Bytes();
        int run = LmdbDamage.PagesOfType(bytes, 4)[0];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(run * P + 12), uint.MaxValue);
        string message = LmdbDamage.Refused(bytes);
        Assert.Contains($"overflow run of record", message);
        Assert.Contains("passes the last page in use", message);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(run * P + 12), 1);
        Assert.Contains("has 1 pages, but its", LmdbDamage.Refused(bytes));

        // The last page cut off: the run that holds it passes the end of the file.
        bytes = LmdbDamage.Bytes();
        int lastRun = LmdbDamage.PagesOfType(bytes, 4).Last();
        Assert.True(lastRun + 2 == bytes.Length / P, "the fixture should end with an overflow run");
        Assert.Contains("passes the end of the file", LmdbDamage.Refused(bytes[..(bytes.Length - P)]));
    }

    [Fact]
    public void BrokenNodesAreRefused()
    {
        var bytes = LmdbDamage.Bytes();
        int leaf = LmdbDamage.PagesOfType(bytes, 2)[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(leaf * P + 16 + 2), 0xFFFF);
        Assert.Contains($"node 1 of page {leaf} starts at byte 65535", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        int node = LmdbDamage.NodeAt(bytes, leaf, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(node + 2), 0x00FF);   // data size + 16 MiB
        Assert.Contains("runs past the end of its page", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        bytes[node + 8] = (byte)'a';   // the key now sorts before its predecessor's
        Assert.Contains("the keys are out of order", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(leaf * P + 12), 3);   // node table ends inside the header
        Assert.Contains($"leaf page {leaf} has a broken header", LmdbDamage.Refused(bytes));
    }

    [Fact]
    public void BadMetaPagesAreRefused()
    {
        var bytes = LmdbDamage.Bytes();
        int meta = LmdbDamage.NewerMeta(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(meta + 24 + 48 + 32), 401);
        Assert.Contains("the meta page says the database holds 401 records, but its B-tree holds 400", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        bytes[meta] ^= 1;
        Assert.Contains("not an LMDB database", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(meta + 4), 999);
        Assert.Contains("format version 999", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(meta + 24 + 48 + 6), 60000);   // depth
        Assert.Contains("depth of 60000", LmdbDamage.Refused(bytes));

        bytes = LmdbDamage.Bytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(meta + 24 + 48 + 40), 1);   // root at a meta page
        Assert.Contains("outside the pages in use", LmdbDamage.Refused(bytes));
    }
}
