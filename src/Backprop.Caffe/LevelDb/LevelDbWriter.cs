namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Writes records into a new LevelDB database as Caffe's converters do: puts gathered in a write batch
/// (<c>leveldb_writebatch</c>) that is written every <see cref="RecordsPerBatch"/> records and at
/// <see cref="Complete"/>. Snappy compression by default (LevelDB's default, which Caffe keeps).
/// </summary>
internal sealed unsafe class LevelDbWriter : IDisposable
{
    /// <summary>Records per write batch (Caffe's converters commit every 1000).</summary>
    public const int RecordsPerBatch = 1000;

    private readonly LevelDbDatabase database;
    private nint batch, writeOptions;
    private int pending;

    /// <summary>Creates the database at <paramref name="directory"/> (a full path), which must not hold one.</summary>
    /// <param name="directory">The database directory.</param>
    /// <param name="compress">Snappy-compress the tables (true, LevelDB's default) or store them plain.</param>
    public LevelDbWriter(string directory, bool compress = true)
    {
        database = LevelDbDatabase.Create(directory, compress ? LevelDbNative.SnappyCompression : LevelDbNative.NoCompression);
        var api = LevelDbNative.Api;
        batch = api.WriteBatchCreate();
        writeOptions = api.WriteOptionsCreate();
    }

    /// <summary>The database directory.</summary>
    public string Directory => database.Path;

    /// <summary>Adds (or replaces) the record under <paramref name="key"/>; written with the batch it falls in.</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (batch == 0) throw new ObjectDisposedException(nameof(LevelDbWriter));
        fixed (byte* k = key)
        fixed (byte* v = value)
            LevelDbNative.Api.WriteBatchPut(batch, k, (nuint)key.Length, v, (nuint)value.Length);
        if (++pending == RecordsPerBatch) Flush(sync: false);
    }

    /// <summary>Writes what is pending and makes the whole database durable (a synced write).</summary>
    public void Complete() => Flush(sync: true);

    private void Flush(bool sync)
    {
        var api = LevelDbNative.Api;
        api.WriteOptionsSetSync(writeOptions, sync ? (byte)1 : (byte)0);
        byte* error = null;
        api.Write(database.Handle, writeOptions, batch, &error);
        api.ThrowIfError(error, database.Path, "write");
        api.WriteBatchClear(batch);
        pending = 0;
    }

    /// <summary>Closes the database (records not yet written by <see cref="Complete"/> or a full batch are dropped).</summary>
    public void Dispose()
    {
        if (batch == 0) return;
        var api = LevelDbNative.Api;
        api.WriteBatchDestroy(batch);
        api.WriteOptionsDestroy(writeOptions);
        batch = writeOptions = 0;
        database.Dispose();
    }
}
