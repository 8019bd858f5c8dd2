using System.Buffers.Binary;
using static Backprop.Caffe.Lmdb.LmdbLayout;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Writes a new LMDB 0.9 <c>data.mdb</c> (the format Caffe reads) from records given in increasing key order, as a
/// bulk load: leaf pages are filled in key order (a value too big for a leaf goes to its own overflow pages), then
/// each branch level is built over the one below, then the two meta pages are written, the newer one last. The
/// result is what one native LMDB write transaction would leave: an empty free-page database and every page live.
/// </summary>
internal sealed class LmdbWriter : IDisposable
{
    public const int PageSize = 4096;

    private readonly FileStream stream;
    private readonly byte[] page = new byte[PageSize];
    private readonly List<(byte[] FirstKey, ulong Pgno)> leaves = [];
    private byte[]? leafFirstKey;
    private byte[] lastKey = [];
    private int lower, upper;
    private ulong nextPage = MetaPageCount, branchPages, leafPages, overflowPages, entries;

    /// <summary>Creates <paramref name="path"/>, which must not exist.</summary>
    public LmdbWriter(string path)
    {
        stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Position = MetaPageCount * PageSize;   // the meta pages come last
        StartPage();
    }

    /// <summary>Adds a record; keys must be 1 to 511 bytes and each sort (as bytes) after the one before.</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.Length is 0 or > MaxKeySize) throw new ArgumentException($"LMDB keys are 1 to {MaxKeySize} bytes; this one is {key.Length}.", nameof(key));
        if (entries > 0 && key.SequenceCompareTo(lastKey) <= 0) throw new ArgumentException("Keys must be added in increasing byte order.", nameof(key));
        lastKey = key.ToArray();

        bool big = NodeHeaderSize + key.Length + value.Length > MaxNodeSize(PageSize);
        int nodeSize = Even(NodeHeaderSize + key.Length + (big ? sizeof(ulong) : value.Length));
        if (lower + sizeof(ushort) + nodeSize > upper) FlushLeaf();
        ulong run = big ? WriteOverflow(value) : 0;

        upper -= nodeSize;
        var node = page.AsSpan(upper, nodeSize);
        node.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(node, (uint)value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(node[4..], big ? BigData : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(node[6..], (ushort)key.Length);
        key.CopyTo(node[NodeHeaderSize..]);
        if (big) BinaryPrimitives.WriteUInt64LittleEndian(node[(NodeHeaderSize + key.Length)..], run);
        else value.CopyTo(node[(NodeHeaderSize + key.Length)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(lower), (ushort)upper);
        lower += sizeof(ushort);
        leafFirstKey ??= lastKey;
        entries++;
    }

    /// <summary>Writes the branch levels and the meta pages, and flushes the file to disk.</summary>
    public void Complete()
    {
        if (leafFirstKey is not null) FlushLeaf();
        ulong root = NoPage;
        int depth = 0;
        var level = leaves;
        if (level.Count > 0)
        {
            depth = 1;
            while (level.Count > 1)
            {
                level = WriteBranchLevel(level);
                depth++;
            }
            root = level[0].Pgno;
        }
        ulong lastPage = nextPage - 1;
        stream.Position = 0;
        stream.Write(MetaPage(0, txnId: 0, lastPage: MetaPageCount - 1, root: NoPage, depth: 0, empty: true));
        stream.Write(MetaPage(1, txnId: 1, lastPage, root, depth, empty: false));
        stream.Flush(flushToDisk: true);
    }

    private void StartPage()
    {
        Array.Clear(page);
        lower = PageHeaderSize;
        upper = PageSize;
    }

    private void WritePage(ushort flags)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(page, nextPage);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(PageFlagsOffset), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(LowerOffset), (ushort)lower);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(UpperOffset), (ushort)upper);
        stream.Write(page);
        nextPage++;
        StartPage();
    }

    private void FlushLeaf()
    {
        leaves.Add((leafFirstKey!, nextPage));
        leafFirstKey = null;
        leafPages++;
        WritePage(Leaf);
    }

    /// <summary>Writes <paramref name="value"/> to a run of overflow pages and returns its first page number.</summary>
    private ulong WriteOverflow(ReadOnlySpan<byte> value)
    {
        long count = OverflowPagesFor(value.Length, PageSize);
        ulong first = (ulong)stream.Position / PageSize;
        Span<byte> header = stackalloc byte[PageHeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, first);
        BinaryPrimitives.WriteUInt16LittleEndian(header[PageFlagsOffset..], LmdbLayout.Overflow);
        BinaryPrimitives.WriteUInt32LittleEndian(header[OverflowPagesOffset..], (uint)count);
        stream.Write(header);
        stream.Write(value);
        stream.Write(new byte[count * PageSize - PageHeaderSize - value.Length]);
        nextPage += (ulong)count;
        overflowPages += (ulong)count;
        return first;
    }

    /// <summary>Writes branch pages over <paramref name="children"/> and returns them as the next level's children.</summary>
    private List<(byte[] FirstKey, ulong Pgno)> WriteBranchLevel(List<(byte[] FirstKey, ulong Pgno)> children)
    {
        // Group children greedily; a branch's first node carries no key (LMDB ignores it), the others their child's first key.
        var groups = new List<List<int>> { new() };
        int used = 0;
        for (int i = 0; i < children.Count; i++)
        {
            int size = sizeof(ushort) + Even(NodeHeaderSize + (groups[^1].Count == 0 ? 0 : children[i].FirstKey.Length));
            if (used + size > PageSize - PageHeaderSize)
            {
                groups.Add([]);
                size = sizeof(ushort) + Even(NodeHeaderSize);
                used = 0;
            }
            groups[^1].Add(i);
            used += size;
        }
        if (groups.Count > 1 && groups[^1].Count == 1)
        {
            // No branch with a single child: the previous page (full, so with many) gives one up.
            groups[^1].Insert(0, groups[^2][^1]);
            groups[^2].RemoveAt(groups[^2].Count - 1);
        }

        var parents = new List<(byte[], ulong)>();
        foreach (var group in groups)
        {
            parents.Add((children[group[0]].FirstKey, nextPage));
            for (int j = 0; j < group.Count; j++)
            {
                var (key, child) = children[group[j]];
                int keyLength = j == 0 ? 0 : key.Length;
                upper -= Even(NodeHeaderSize + keyLength);
                var node = page.AsSpan(upper);
                BinaryPrimitives.WriteUInt32LittleEndian(node, (uint)child);
                BinaryPrimitives.WriteUInt16LittleEndian(node[4..], (ushort)(child >> 32));
                BinaryPrimitives.WriteUInt16LittleEndian(node[6..], (ushort)keyLength);
                key.AsSpan(0, keyLength).CopyTo(node[NodeHeaderSize..]);
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(lower), (ushort)upper);
                lower += sizeof(ushort);
            }
            branchPages++;
            WritePage(Branch);
        }
        return parents;
    }

    private byte[] MetaPage(int index, ulong txnId, ulong lastPage, ulong root, int depth, bool empty)
    {
        var meta = new byte[PageSize];
        var m = meta.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(m, (ulong)index);
        BinaryPrimitives.WriteUInt16LittleEndian(m[PageFlagsOffset..], LmdbLayout.Meta);
        BinaryPrimitives.WriteUInt32LittleEndian(m[MetaMagic..], Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(m[MetaVersion..], DataVersion);
        // The map size: the file, rounded up to whole MiB (LMDB maps at least what the meta page says is in use).
        BinaryPrimitives.WriteUInt64LittleEndian(m[MetaMapSize..], ((lastPage + 1) * PageSize + (1UL << 20) - 1) & ~((1UL << 20) - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(m[(FreeDb + DbPad)..], PageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(m[(FreeDb + DbFlags)..], IntegerKey);   // as LMDB marks its free-page database
        BinaryPrimitives.WriteUInt64LittleEndian(m[(FreeDb + DbRoot)..], NoPage);
        BinaryPrimitives.WriteUInt16LittleEndian(m[(MainDb + DbDepth)..], (ushort)depth);
        if (!empty)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(m[(MainDb + DbBranchPages)..], branchPages);
            BinaryPrimitives.WriteUInt64LittleEndian(m[(MainDb + DbLeafPages)..], leafPages);
            BinaryPrimitives.WriteUInt64LittleEndian(m[(MainDb + DbOverflowPages)..], overflowPages);
            BinaryPrimitives.WriteUInt64LittleEndian(m[(MainDb + DbEntries)..], entries);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(m[(MainDb + DbRoot)..], root);
        BinaryPrimitives.WriteUInt64LittleEndian(m[MetaLastPage..], lastPage);
        BinaryPrimitives.WriteUInt64LittleEndian(m[MetaTxnId..], txnId);
        return meta;
    }

    private static int Even(int n) => (n + 1) & ~1;

    public void Dispose() => stream.Dispose();
}
