using System.Text;
using static Backprop.Caffe.Lmdb.LmdbLayout;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Walks the leaf records of an LMDB main B-tree in key order, checking every page and node it touches: page
/// numbers against the file, page types against the level the tree's depth puts them at, node offsets and sizes
/// against their page, overflow runs against the file, and that keys increase. Each page may be reached once per
/// pass, so a cycle or a page with two parents is an error, not a hang. Not thread-safe; one per reader thread.
/// </summary>
internal sealed class LmdbTreeCursor
{
    private readonly LmdbDataFile file;
    private readonly LmdbMeta meta;
    private readonly int leaf;                 // the level of leaf pages: depth - 1
    private readonly byte[][] pages;           // the path from the root: one page per level
    private readonly ulong[] pgnos;
    private readonly int[] counts;             // nodes on each page of the path
    private readonly int[] positions;          // the node followed (branches) or read (the leaf) on each page
    private readonly HashSet<ulong> visited = [];
    private byte[] overflow = [];
    private readonly byte[] previousKey;
    private int previousKeyLength = -1;
    private bool valueInOverflow;
    private int keyStart, keyLength, valueStart, valueLength;

    public LmdbTreeCursor(LmdbDataFile file)
    {
        this.file = file;
        meta = file.Meta;
        int depth = Math.Max(meta.Depth, 1);
        leaf = depth - 1;
        pages = new byte[depth][];
        for (int level = 0; level < depth; level++) pages[level] = new byte[meta.PageSize];
        pgnos = new ulong[depth];
        counts = new int[depth];
        positions = new int[depth];
        previousKey = new byte[meta.PageSize];
    }

    /// <summary>The current record's key; valid until the next move.</summary>
    public ReadOnlySpan<byte> Key => pages[leaf].AsSpan(keyStart, keyLength);

    /// <summary>The current record's value; valid until the next move.</summary>
    public ReadOnlySpan<byte> Value => valueInOverflow ? overflow.AsSpan(0, valueLength) : pages[leaf].AsSpan(valueStart, valueLength);

    /// <summary>Moves to the first record; false when the tree is empty.</summary>
    public bool First()
    {
        if (!StartPass(headerOnly: false)) return false;
        return Settle();
    }

    /// <summary>Moves to the next record; false after the last. Call <see cref="First"/> before.</summary>
    public bool Next()
    {
        positions[leaf]++;
        return Settle();
    }

    /// <summary>Counts the records by reading the tree's branch pages and only the headers of its leaf pages.</summary>
    public long CountRecords()
    {
        if (!StartPass(headerOnly: true)) return 0;
        long total = 0;
        do total += counts[leaf];
        while (NextLeaf(headerOnly: true));
        return total;
    }

    private bool StartPass(bool headerOnly)
    {
        visited.Clear();
        previousKeyLength = -1;
        if (meta.IsEmpty) return false;
        Load(0, meta.Root, "the root named by the meta page", headerOnly);
        DescendLeftmost(0, headerOnly);
        return true;
    }

    /// <summary>Makes the current position a record (moving on through leaves as needed) and reads it.</summary>
    private bool Settle()
    {
        while (positions[leaf] >= counts[leaf])
            if (!NextLeaf(headerOnly: false)) return false;
        ReadRecord();
        return true;
    }

    /// <summary>Climbs to the nearest branch with a child to the right and descends its leftmost path to a leaf.</summary>
    private bool NextLeaf(bool headerOnly)
    {
        int level = leaf - 1;
        while (level >= 0 && positions[level] + 1 >= counts[level]) level--;
        if (level < 0) return false;
        positions[level]++;
        DescendLeftmost(level, headerOnly);
        return true;
    }

    private void DescendLeftmost(int from, bool headerOnly)
    {
        for (int level = from; level < leaf; level++)
        {
            int i = positions[level];
            Load(level + 1, Child(level, i), $"child {i} of the branch at page {pgnos[level]}", headerOnly);
        }
    }

    private void Load(int level, ulong pgno, string referrer, bool headerOnly)
    {
        if (!visited.Add(pgno))
            throw file.Corrupt($"page {pgno} is reached a second time, as {referrer}: the tree has a cycle or a page with two parents");
        var page = pages[level];
        bool isLeaf = level == leaf;
        file.ReadPage(pgno, isLeaf && headerOnly ? page.AsSpan(0, PageHeaderSize) : page, referrer);
        ushort flags = U16(page, PageFlagsOffset);
        ushort expected = isLeaf ? Leaf : Branch;
        if ((flags & TypeBits) != expected)
            throw file.Corrupt($"page {pgno} is {Describe(flags)}, but {referrer} should be {Describe(expected)} " +
                               $"(level {level + 1} of the {leaf + 1}-level tree)");
        int lower = U16(page, LowerOffset), upper = U16(page, UpperOffset);
        if (lower < PageHeaderSize || (lower - PageHeaderSize) % 2 != 0 || lower > upper || upper > meta.PageSize)
            throw file.Corrupt($"{Describe(flags)} {pgno} has a broken header: its node table ends at byte {lower} and its nodes " +
                               $"start at byte {upper} of a {meta.PageSize}-byte page");
        pgnos[level] = pgno;
        counts[level] = (lower - PageHeaderSize) / 2;
        positions[level] = 0;
        if (!isLeaf && counts[level] == 0) throw file.Corrupt($"branch page {pgno} has no children");
    }

    /// <summary>The byte offset of node <paramref name="i"/> of the page at <paramref name="level"/>, and its key's extent, checked.</summary>
    private (int Node, int KeyEnd) Node(int level, int i)
    {
        var page = pages[level];
        int node = U16(page, PageHeaderSize + 2 * i), upper = U16(page, UpperOffset);
        if (node < upper || node + NodeHeaderSize > meta.PageSize)
            throw file.Corrupt($"node {i} of page {pgnos[level]} starts at byte {node}, outside the page's node area (bytes {upper} to {meta.PageSize})");
        int keyEnd = node + NodeHeaderSize + U16(page, node + 6);
        if (keyEnd > meta.PageSize)
            throw file.Corrupt($"the key of node {i} of page {pgnos[level]} ({keyEnd - node - NodeHeaderSize} bytes) runs past the end of the page");
        return (node, keyEnd);
    }

    private ulong Child(int level, int i)
    {
        int node = Node(level, i).Node;
        return U32(pages[level], node) | ((ulong)U16(pages[level], node + 4) << 32);
    }

    private void ReadRecord()
    {
        var page = pages[leaf];
        int i = positions[leaf];
        ulong pgno = pgnos[leaf];
        var (node, keyEnd) = Node(leaf, i);
        keyStart = node + NodeHeaderSize;
        keyLength = keyEnd - keyStart;
        ushort flags = U16(page, node + 4);
        uint size = U32(page, node);
        if ((flags & (SubData | DupData)) != 0)
            throw file.Corrupt($"record {i} of page {pgno} is a sub-database or a set of duplicates (node flags 0x{flags:X2}), which a Caffe database does not hold");
        CheckKeyOrder(pgno);
        if ((flags & BigData) == 0)
        {
            if (keyEnd + (long)size > meta.PageSize)
                throw file.Corrupt($"record '{KeyText(Key)}' on page {pgno} claims a {size}-byte value, which runs past the end of its page");
            valueInOverflow = false;
            valueStart = keyEnd;
            valueLength = (int)size;
            return;
        }
        if (keyEnd + 8 > meta.PageSize)
            throw file.Corrupt($"record '{KeyText(Key)}' on page {pgno} has no room for its overflow page number");
        ReadOverflow(U64(page, keyEnd), size, $"the overflow run of record '{KeyText(Key)}' (on page {pgno})");
    }

    private void ReadOverflow(ulong pgno, uint size, string what)
    {
        Span<byte> header = stackalloc byte[PageHeaderSize];
        file.ReadPage(pgno, header, what);
        ushort flags = U16(header, PageFlagsOffset);
        if ((flags & TypeBits) != LmdbLayout.Overflow)
            throw file.Corrupt($"page {pgno} is {Describe(flags)}, but {what} should start there");
        uint runPages = U32(header, OverflowPagesOffset);
        long needed = OverflowPagesFor(size, meta.PageSize);
        if (runPages < needed)
            throw file.Corrupt($"{what} at page {pgno} has {runPages} pages, but its {size}-byte value needs {needed}");
        file.CheckPages(pgno, runPages, what);
        if (size > Array.MaxLength) throw file.Corrupt($"{what} holds a {size}-byte value, more than one array can hold");
        if (overflow.Length < size) overflow = new byte[size];
        file.Read((long)pgno * meta.PageSize + PageHeaderSize, overflow.AsSpan(0, (int)size));
        valueInOverflow = true;
        valueLength = (int)size;
    }

    private void CheckKeyOrder(ulong pgno)
    {
        var key = Key;
        if (meta.KeysSortAsBytes && previousKeyLength >= 0 && key.SequenceCompareTo(previousKey.AsSpan(0, previousKeyLength)) <= 0)
            throw file.Corrupt($"the keys are out of order: '{KeyText(key)}' (page {pgno}) comes after '{KeyText(previousKey.AsSpan(0, previousKeyLength))}'");
        key.CopyTo(previousKey);
        previousKeyLength = key.Length;
    }

    /// <summary>A key for messages: printable ASCII as is, other bytes as \xNN, cut after 40 bytes.</summary>
    public static string KeyText(ReadOnlySpan<byte> key)
    {
        var text = new StringBuilder();
        foreach (byte b in key[..Math.Min(key.Length, 40)])
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        return key.Length > 40 ? text.Append("...").ToString() : text.ToString();
    }
}
