using System.Text;
using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Reads a Caffe LevelDB database, a directory written by LevelDB whose records are serialized <see cref="Datum"/>
/// messages under keys that sort in reading order (Caffe's converters use the item index as 8 zero-padded digits).
/// Records come in key order (LevelDB's byte-wise order, the one Caffe's cursor walks).
/// </summary>
/// <remarks>
/// Reads through the system's LevelDB library (Debian: <c>libleveldb1d</c>), opened without create_if_missing, with
/// paranoid checks and checksums on, so a damaged database gives an <see cref="InvalidDataException"/> naming it.
/// LevelDB locks a database while it is open: one process at a time (an <see cref="IOException"/> says so when
/// another holds it). Dispose the reader to release the lock. Opening walks the records once to count them.
/// </remarks>
public sealed class LevelDbDatumReader : IDisposable
{
    private readonly LevelDbDatabase database;

    /// <summary>Opens the database in <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">The directory is not a LevelDB database, or the database is damaged.</exception>
    /// <exception cref="IOException">Another process has the database open, or LevelDB cannot read it.</exception>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed.</exception>
    public LevelDbDatumReader(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        database = LevelDbDatabase.OpenExisting(Directory);
        try
        {
            using var iterator = new LevelDbIterator(database);
            for (bool more = iterator.First(); more; more = iterator.Next())
            {
                Count++;
                ValueBytes += iterator.Value.Length;
            }
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>The database directory, as a full path.</summary>
    public string Directory { get; }

    /// <summary>Number of records.</summary>
    public long Count { get; }

    /// <summary>The stored values' total length in bytes, uncompressed: a bound on what the records can hold.</summary>
    public long ValueBytes { get; }

    /// <summary>Every record once, in key order.</summary>
    public IEnumerable<LevelDbRecord> Records()
    {
        using var cursor = CreateCursor(cycle: false);
        while (cursor.TryNext(out var record)) yield return record;
    }

    /// <summary>
    /// A cursor over the records in key order. With <paramref name="cycle"/> (Caffe's way) it goes back to the
    /// first record after the last, without end; otherwise <see cref="LevelDbDatumCursor.TryNext"/> returns false at the end.
    /// </summary>
    public LevelDbDatumCursor CreateCursor(bool cycle = true) => new(Directory, new LevelDbIterator(database), cycle);

    /// <summary>Parses one stored value, naming the database and key when it is not a valid Datum.</summary>
    internal static LevelDbRecord Parse(string directory, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        string keyText = Encoding.Latin1.GetString(key);
        try
        {
            return new LevelDbRecord(keyText, Datum.Parser.ParseFrom(value));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The record '{keyText}' in the LevelDB database '{directory}' is not a Caffe Datum: {e.Message}", e);
        }
    }

    /// <summary>Closes the database, releasing LevelDB's lock on it.</summary>
    public void Dispose() => database.Dispose();
}
