using System.Text;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Walks a Caffe LMDB's records in key order, optionally cycling back to the first after the last (as Caffe's
/// data layers do). Made by <see cref="LmdbDatumReader.CreateCursor"/>; use it until the reader is disposed.
/// </summary>
public sealed class LmdbDatumCursor : IDisposable
{
    private readonly string directory;
    private readonly LmdbTreeCursor cursor;
    private bool started;
    private bool disposed;

    internal LmdbDatumCursor(string directory, LmdbTreeCursor cursor, bool cycle)
    {
        this.directory = directory;
        this.cursor = cursor;
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
    /// <exception cref="InvalidDataException">The database is damaged, or the record is not a Datum; the message names the file.</exception>
    public bool TryNext(out LmdbRecord record)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        bool found = started ? cursor.Next() : cursor.First();
        if (!found && started && Cycles)
        {
            found = cursor.First();
            if (found) Wraps++;
        }
        if (!found)
        {
            record = default;
            return false;
        }
        started = true;
        string keyText = Encoding.Latin1.GetString(cursor.Key);
        record = new LmdbRecord(keyText, LmdbDatumReader.Parse(directory, keyText, cursor.Value));
        return true;
    }

    /// <summary>Goes back before the first record.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        started = false;
    }

    /// <summary>Ends the cursor; the file stays open for the reader's other cursors.</summary>
    public void Dispose() => disposed = true;
}
