namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Walks a Caffe LevelDB's records in key order, optionally cycling back to the first after the last (as Caffe's
/// data layers do). Made by <see cref="LevelDbDatumReader.CreateCursor"/>; dispose it before the reader.
/// </summary>
public sealed class LevelDbDatumCursor : IDisposable
{
    private readonly string directory;
    private readonly LevelDbIterator iterator;
    private bool started;

    internal LevelDbDatumCursor(string directory, LevelDbIterator iterator, bool cycle)
    {
        this.directory = directory;
        this.iterator = iterator;
        Cycles = cycle;
    }

    /// <summary>Whether the cursor goes back to the first record after the last.</summary>
    public bool Cycles { get; }

    /// <summary>How many times the cursor has gone back to the first record.</summary>
    public int Wraps { get; private set; }

    /// <summary>The next record. Throws <see cref="InvalidOperationException"/> at the end of a non-cycling cursor, or when the database is empty.</summary>
    public LevelDbRecord Next() => TryNext(out var record)
        ? record
        : throw new InvalidOperationException(started
            ? $"The cursor has passed the last record of '{directory}'; create it with cycle: true to start over."
            : $"The LevelDB database '{directory}' has no records.");

    /// <summary>Moves to the next record (wrapping around when cycling); false at the end, or when the database is empty.</summary>
    /// <exception cref="InvalidDataException">The database is damaged, or the record is not a Datum; the message names the database.</exception>
    public bool TryNext(out LevelDbRecord record)
    {
        bool found = started ? iterator.Next() : iterator.First();
        if (!found && started && Cycles)
        {
            found = iterator.First();
            if (found) Wraps++;
        }
        if (!found)
        {
            record = default;
            return false;
        }
        started = true;
        record = LevelDbDatumReader.Parse(directory, iterator.Key, iterator.Value);
        return true;
    }

    /// <summary>Goes back before the first record.</summary>
    public void Reset() => started = false;

    public void Dispose() => iterator.Dispose();
}
