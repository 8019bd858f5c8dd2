using System.Text;
using LightningDB;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Walks a Caffe LMDB's records in key order, optionally cycling back to the first after the last (as Caffe's
/// data layers do). Holds a read transaction: dispose it when done. Made by <see cref="LmdbDatumReader.CreateCursor"/>.
/// </summary>
public sealed class LmdbDatumCursor : IDisposable
{
    private readonly string directory;
    private readonly LightningTransaction transaction;
    private readonly LightningDatabase database;
    private readonly LightningCursor cursor;
    private bool started;
    private bool disposed;

    internal LmdbDatumCursor(string directory, LightningTransaction transaction, LightningDatabase database, bool cycle)
    {
        this.directory = directory;
        this.transaction = transaction;
        this.database = database;
        cursor = transaction.CreateCursor(database);
        Cycles = cycle;
    }

    /// <summary>Whether the cursor goes back to the first record after the last.</summary>
    public bool Cycles { get; }

    /// <summary>How many times the cursor has gone back to the first record.</summary>
    public int Wraps { get; private set; }

    /// <summary>The next record. Throws <see cref="InvalidOperationException"/> at the end of a non-cycling cursor, or when the database is empty.</summary>
    public LmdbRecord Next() => TryNext(out var record)
        ? record
        : throw new InvalidOperationException(started
            ? $"The cursor has passed the last record of '{directory}'; create it with cycle: true to start over."
            : $"The LMDB database '{directory}' has no records.");

    /// <summary>Moves to the next record (wrapping around when cycling); false at the end, or when the database is empty.</summary>
    public bool TryNext(out LmdbRecord record)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var (code, key, value) = started ? cursor.Next() : cursor.First();
        if (code == MDBResultCode.NotFound && started && Cycles)
        {
            (code, key, value) = cursor.First();
            if (code == MDBResultCode.Success) Wraps++;
        }
        if (code == MDBResultCode.NotFound)
        {
            record = default;
            return false;
        }
        code.ThrowOnError();
        started = true;
        string keyText = Encoding.Latin1.GetString(key.AsSpan());
        record = new LmdbRecord(keyText, LmdbDatumReader.Parse(directory, keyText, value.AsSpan()));
        return true;
    }

    /// <summary>Goes back before the first record.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        started = false;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        cursor.Dispose();
        transaction.Dispose(); // the database handle belongs to the environment and closes with it
    }
}
