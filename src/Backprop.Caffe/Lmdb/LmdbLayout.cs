using System.Buffers.Binary;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// LMDB 0.9's on-disk format (the one Caffe's databases use), as 64-bit builds write it: little-endian,
/// 8-byte page numbers. A file is a run of pages of one size; pages 0 and 1 are meta pages, the newer one
/// (higher transaction id) names the root of the main B-tree. Every page starts with a 16-byte header.
/// </summary>
internal static class LmdbLayout
{
    // Page header: pgno (u64) | pad (u16) | flags (u16) | lower (u16) upper (u16), or an overflow run's page count (u32).
    public const int PageHeaderSize = 16;
    public const int PageFlagsOffset = 10;
    public const int LowerOffset = 12;
    public const int UpperOffset = 14;
    public const int OverflowPagesOffset = 12;

    // Page types (mp_flags).
    public const ushort Branch = 0x01;
    public const ushort Leaf = 0x02;
    public const ushort Overflow = 0x04;
    public const ushort Meta = 0x08;
    public const ushort Leaf2 = 0x20;          // fixed-size duplicates only
    public const ushort TypeBits = Branch | Leaf | Overflow | Meta | Leaf2;

    // Meta page body, after the page header: magic (u32) | version (u32) | address (u64) | map size (u64) |
    // free DB (48 bytes) | main DB (48 bytes) | last page (u64) | txnid (u64).
    public const uint Magic = 0xBEEFC0DE;
    public const uint DataVersion = 1;
    public const int MetaMagic = PageHeaderSize;
    public const int MetaVersion = PageHeaderSize + 4;
    public const int MetaMapSize = PageHeaderSize + 16;
    public const int FreeDb = PageHeaderSize + 24;
    public const int MainDb = FreeDb + DbSize;
    public const int MetaLastPage = MainDb + DbSize;
    public const int MetaTxnId = MetaLastPage + 8;
    public const int MetaEnd = MetaTxnId + 8;
    public const int MetaPageCount = 2;

    // One B-tree's record (MDB_db): pad (u32; page size in the free DB) | flags (u16) | depth (u16) |
    // branch pages | leaf pages | overflow pages | entries | root (u64 each).
    public const int DbSize = 48;
    public const int DbPad = 0, DbFlags = 4, DbDepth = 6, DbBranchPages = 8, DbLeafPages = 16, DbOverflowPages = 24, DbEntries = 32, DbRoot = 40;
    public const ulong NoPage = ulong.MaxValue;  // P_INVALID: the root of an empty tree

    // mdb_dbi_open flags that change what a main DB holds or how its keys sort.
    public const ushort ReverseKey = 0x02, DupSort = 0x04, IntegerKey = 0x08;

    // Node (MDB_node): data size low (u16) | data size high (u16) | flags (u16) | key size (u16) | key | data.
    // In a branch node the first three fields hold the child's page number (48 bits) instead.
    public const int NodeHeaderSize = 8;
    public const ushort BigData = 0x01, SubData = 0x02, DupData = 0x04;
    public const int MaxKeySize = 511;

    /// <summary>Pages an overflow run needs for <paramref name="size"/> bytes (OVPAGES).</summary>
    public static long OverflowPagesFor(long size, int pageSize) => (PageHeaderSize - 1 + size) / pageSize + 1;

    /// <summary>The largest leaf node kept inside its page; a bigger record's value goes to overflow pages (me_nodemax).</summary>
    public static int MaxNodeSize(int pageSize) => (((pageSize - PageHeaderSize) / 2) & -2) - sizeof(ushort);

    public static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    public static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    public static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);

    /// <summary>A page type in words, for messages.</summary>
    public static string Describe(ushort flags) => (flags & TypeBits) switch
    {
        Branch => "a branch page",
        Leaf => "a leaf page",
        Overflow => "an overflow page",
        Meta => "a meta page",
        Leaf | Leaf2 => "a fixed-size duplicates page",
        0 => "an unused page (no type flags)",
        _ => $"a page with type flags 0x{flags & TypeBits:X2}",
    };
}
