using static Backprop.Caffe.Lmdb.LmdbLayout;

namespace Backprop.Caffe.Lmdb;

/// <summary>What a meta page says: the page size, the last page in use, and the main B-tree (Caffe's records).</summary>
internal readonly record struct LmdbMeta(
    int PageSize, ulong LastPage, ulong TxnId, ushort Flags, int Depth,
    ulong BranchPages, ulong LeafPages, ulong OverflowPages, ulong Entries, ulong Root)
{
    /// <summary>B-trees deeper than this are refused (a 4 KiB-page tree of depth 12 would hold more records than any disk).</summary>
    public const int MaxDepth = 24;

    public bool IsEmpty => Root == NoPage;

    /// <summary>Whether keys sort as plain bytes (memcmp), so the reader can check their order.</summary>
    public bool KeysSortAsBytes => (Flags & (ReverseKey | IntegerKey)) == 0;

    /// <summary>
    /// Parses meta page <paramref name="index"/> (0 or 1), or returns why it is not a valid one. The checks are LMDB's
    /// own (meta flag, magic, version) and those that keep later reads in bounds.
    /// </summary>
    public static LmdbMeta? Parse(ReadOnlySpan<byte> page, int index, out string problem)
    {
        problem = "";
        ushort pageFlags = U16(page, PageFlagsOffset);
        if ((pageFlags & LmdbLayout.Meta) == 0 || U32(page, MetaMagic) != Magic)
        {
            problem = $"page {index} is not an LMDB meta page (no magic number 0xBEEFC0DE)";
            return null;
        }
        uint version = U32(page, MetaVersion);
        if (version != DataVersion)
        {
            problem = $"meta page {index} has format version {version}, but only version {DataVersion} (LMDB 0.9, what Caffe writes) is read; " +
                      "convert the database with LMDB 0.9's mdb_dump and mdb_load";
            return null;
        }
        if (U64(page, 0) != (ulong)index)
        {
            problem = $"meta page {index} says it is page {U64(page, 0)}";
            return null;
        }
        uint pageSize = U32(page, FreeDb + DbPad);
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            problem = $"meta page {index} gives a page size of {pageSize} bytes (LMDB uses a power of two from 512 to 65536)";
            return null;
        }
        ulong lastPage = U64(page, MetaLastPage);
        if (lastPage < MetaPageCount - 1 || lastPage > (ulong)(long.MaxValue / pageSize))
        {
            problem = $"meta page {index} gives {lastPage} as the last page in use";
            return null;
        }
        int main = MainDb;
        var meta = new LmdbMeta(
            (int)pageSize, lastPage, U64(page, MetaTxnId), U16(page, main + DbFlags), U16(page, main + DbDepth),
            U64(page, main + DbBranchPages), U64(page, main + DbLeafPages), U64(page, main + DbOverflowPages),
            U64(page, main + DbEntries), U64(page, main + DbRoot));
        problem = meta.TreeProblem(index);
        return problem.Length == 0 ? meta : null;
    }

    private string TreeProblem(int index)
    {
        string where = $"meta page {index}'s main database";
        if ((Flags & DupSort) != 0)
            return $"{where} holds duplicate keys (MDB_DUPSORT), which Caffe's databases do not have";
        if (IsEmpty)
            return Depth == 0 && Entries == 0 ? "" : $"{where} has no root page but claims depth {Depth} and {Entries} records";
        if (Root < MetaPageCount || Root > LastPage)
            return $"{where} has its root at page {Root}, outside the pages in use (2 to {LastPage})";
        if (Depth < 1 || Depth > MaxDepth)
            return $"{where} claims a B-tree depth of {Depth} (at most {MaxDepth} is accepted)";
        return "";
    }
}
