using Backprop.Caffe.Proto;
using Google.Protobuf;
using LightningDB;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Reads a Caffe LMDB database, a directory holding <c>data.mdb</c> and <c>lock.mdb</c> whose records are
/// serialized <see cref="Datum"/> messages under keys that sort in reading order (Caffe's converters use the
/// item index as 8 zero-padded digits). Opened read-only; records come in key order.
/// </summary>
/// <remarks>
/// The reader holds the open environment (a file mapping) until disposed. <see cref="Records"/> and
/// <see cref="CreateCursor"/> each take a read transaction of their own, so several may be open at once and
/// may be used from a different thread than the one that created them (one thread at a time each).
/// </remarks>
public sealed class LmdbDatumReader : IDisposable
{
    private readonly LightningEnvironment environment;

    /// <summary>Opens the database in <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">The directory is not an LMDB database (or one this LMDB version cannot open).</exception>
    public LmdbDatumReader(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        environment = CaffeLmdb.OpenReadOnly(Directory);
        try
        {
            using var transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
            var database = transaction.OpenDatabase();
            Count = transaction.GetEntriesCount(database);
        }
        catch (LightningException e)
        {
            environment.Dispose();
            throw new InvalidDataException(CaffeLmdb.Describe(Directory, e), e);
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
        var transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
        try
        {
            var database = transaction.OpenDatabase();
            return new LmdbDatumCursor(Directory, transaction, database, cycle);
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
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

    private bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        environment.Dispose();
    }
}
