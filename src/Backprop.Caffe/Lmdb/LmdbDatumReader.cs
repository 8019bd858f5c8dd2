using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Reads a Caffe LMDB database, a directory holding <c>data.mdb</c> and <c>lock.mdb</c> whose records are
/// serialized <see cref="Datum"/> messages under keys that sort in reading order (Caffe's converters use the
/// item index as 8 zero-padded digits). Records come in key order.
/// </summary>
/// <remarks>
/// The file is read in managed code (LMDB 0.9's format, the one Caffe writes), with positioned reads rather than a
/// memory map, and every page number, offset and size is checked before use: a damaged or truncated database gives an
/// <see cref="InvalidDataException"/> that names the file and what is wrong. Opening checks the meta pages and walks
/// the B-tree once to count the records. <see cref="Records"/> and <see cref="CreateCursor"/> each make a cursor of
/// their own, so several may be open at once and may be used from a different thread than the one that created them
/// (one thread at a time each). The database must not be written while it is read.
/// </remarks>
public sealed class LmdbDatumReader : IDisposable
{
    private readonly LmdbDataFile file;
    private bool disposed;

    /// <summary>Opens the database in <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">The directory is not an LMDB database, or the database is damaged.</exception>
    public LmdbDatumReader(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        file = CaffeLmdb.Open(Directory);
        try
        {
            Count = new LmdbTreeCursor(file).CountRecords();
            if ((ulong)Count != file.Meta.Entries)
                throw file.Corrupt($"the meta page says the database holds {file.Meta.Entries} records, but its B-tree holds {Count}");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The database directory, as a full path.</summary>
    public string Directory { get; }

    /// <summary>Number of records.</summary>
    public long Count { get; }

    /// <summary>Every record once, in key order.</summary>
    public IEnumerable<LmdbRecord> Records()
    {
        using var cursor = CreateCursor(cycle: false);
        while (cursor.TryNext(out var record)) yield return record;
    }

    /// <summary>
    /// A cursor over the records in key order. With <paramref name="cycle"/> (Caffe's way) it goes back to the
    /// first record after the last, without end; otherwise <see cref="LmdbDatumCursor.TryNext"/> returns false at the end.
    /// </summary>
    public LmdbDatumCursor CreateCursor(bool cycle = true)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new LmdbDatumCursor(Directory, new LmdbTreeCursor(file), cycle);
    }

    /// <summary>Parses one stored value, naming the database and key when it is not a valid Datum.</summary>
    internal static Datum Parse(string directory, string key, ReadOnlySpan<byte> value)
    {
        try
        {
            return Datum.Parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The record '{key}' in the LMDB database '{directory}' is not a Caffe Datum: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        file.Dispose();
    }
}
