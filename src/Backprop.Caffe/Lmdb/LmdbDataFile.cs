using Microsoft.Win32.SafeHandles;
using static Backprop.Caffe.Lmdb.LmdbLayout;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// An LMDB <c>data.mdb</c> opened for reading with positioned reads (no memory map, so a truncated or shrinking
/// file gives an error rather than a SIGBUS). Every page number is checked against the file's length and the
/// meta page's last page before it is read; any inconsistency is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
/// <remarks>Reads are positioned (pread), so cursors on several threads may share one instance.</remarks>
internal sealed class LmdbDataFile : IDisposable
{
    private readonly SafeFileHandle handle;

    private LmdbDataFile(string path, SafeFileHandle handle, long length, LmdbMeta meta)
    {
        Path = path;
        this.handle = handle;
        Length = length;
        Meta = meta;
    }

    /// <summary>The file, as a full path.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes when it was opened.</summary>
    public long Length { get; }

    /// <summary>The newer of the two meta pages.</summary>
    public LmdbMeta Meta { get; }

    public int PageSize => Meta.PageSize;

    /// <summary>Whole pages in the file.</summary>
    public long FilePages => Length / PageSize;

    /// <summary>Opens <paramref name="path"/> and reads its meta pages; both must be valid (as LMDB itself requires), the newer one is used.</summary>
    public static LmdbDataFile Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            long length = RandomAccess.GetLength(handle);
            var meta = ReadMeta(full, handle, length);
            return new LmdbDataFile(full, handle, length, meta);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static LmdbMeta ReadMeta(string path, SafeFileHandle handle, long length)
    {
        Span<byte> buffer = stackalloc byte[MetaEnd];
        LmdbMeta? chosen = null;
        long offset = 0;
        for (int index = 0; index < MetaPageCount; index++)
        {
            if (offset + MetaEnd > length)
                throw NotLmdb(path, $"it is {length} bytes long, too short to hold LMDB's two meta pages");
            ReadExactly(path, handle, offset, buffer);
            var meta = LmdbMeta.Parse(buffer, index, out string problem) ?? throw NotLmdb(path, problem);
            if (chosen is { } first && meta.PageSize != first.PageSize)
                throw NotLmdb(path, $"meta page 0 gives a page size of {first.PageSize} bytes but meta page 1 gives {meta.PageSize}");
            if (chosen is null || meta.TxnId > chosen.Value.TxnId) chosen = meta;
            offset += meta.PageSize;
        }
        return chosen!.Value;
    }

    private static InvalidDataException NotLmdb(string path, string why) =>
        new($"'{path}' is not an LMDB database, or is damaged: {why}.");

    /// <summary>An error for a damaged database: the file and what is wrong.</summary>
    public InvalidDataException Corrupt(string what) => new($"The LMDB database '{Path}' is damaged: {what}.");

    /// <summary>
    /// Checks that pages <paramref name="pgno"/> to <paramref name="pgno"/> + <paramref name="count"/> - 1 exist (in the
    /// file and among the pages in use, not a meta page); <paramref name="what"/> says in words who wants them.
    /// </summary>
    public void CheckPages(ulong pgno, ulong count, string what)
    {
        if (pgno < MetaPageCount)
            throw Corrupt($"{what} is page {pgno}, a meta page");
        ulong last = pgno + count - 1;
        if (last < pgno || last > Meta.LastPage)
            throw Corrupt($"{what} (page {pgno}{(count > 1 ? $", {count} pages" : "")}) passes the last page in use, {Meta.LastPage}");
        if (last >= (ulong)FilePages)
            throw Corrupt($"{what} (page {pgno}{(count > 1 ? $", {count} pages" : "")}) passes the end of the file ({FilePages} pages of {PageSize} bytes): the file is truncated");
    }

    /// <summary>Reads the first <paramref name="destination"/>.Length bytes of page <paramref name="pgno"/> and checks the page's own number.</summary>
    public void ReadPage(ulong pgno, Span<byte> destination, string what)
    {
        CheckPages(pgno, 1, what);
        ReadExactly(Path, handle, (long)pgno * PageSize, destination);
        ulong own = U64(destination, 0);
        if (own != pgno) throw Corrupt($"page {pgno} ({what}) says in its header that it is page {own}");
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>, already checked to lie in the file.</summary>
    public void Read(long offset, Span<byte> destination) => ReadExactly(Path, handle, offset, destination);

    private static void ReadExactly(string path, SafeFileHandle handle, long offset, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0)
                throw new InvalidDataException($"The LMDB database '{path}' ended at byte {offset} during a read: it was truncated while open.");
            destination = destination[n..];
            offset += n;
        }
    }

    public void Dispose() => handle.Dispose();
}
