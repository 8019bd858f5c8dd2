namespace Backprop.Caffe.LevelDb;

/// <summary>
/// A LevelDB iterator (<c>leveldb_iterator_t*</c>) over every key in LevelDB's byte order, with checksums verified.
/// Key and value spans are valid until the next move. An error found while iterating becomes an exception naming
/// the database.
/// </summary>
internal sealed unsafe class LevelDbIterator : IDisposable
{
    private readonly LevelDbDatabase database;
    private nint iterator, readOptions;

    public LevelDbIterator(LevelDbDatabase database)
    {
        this.database = database;
        var api = LevelDbNative.Api;
        readOptions = api.ReadOptionsCreate();
        api.ReadOptionsSetVerifyChecksums(readOptions, 1);
        api.ReadOptionsSetFillCache(readOptions, 0);   // each record is read once: don't evict anything for it
        iterator = api.CreateIterator(database.Handle, readOptions);
    }

    /// <summary>Moves to the first record; false when there is none.</summary>
    public bool First()
    {
        LevelDbNative.Api.IterSeekToFirst(Live);
        return Valid();
    }

    /// <summary>Moves to the next record; false past the last.</summary>
    public bool Next()
    {
        LevelDbNative.Api.IterNext(Live);
        return Valid();
    }

    public ReadOnlySpan<byte> Key
    {
        get
        {
            nuint length;
            byte* key = LevelDbNative.Api.IterKey(Live, &length);
            return new ReadOnlySpan<byte>(key, checked((int)length));
        }
    }

    public ReadOnlySpan<byte> Value
    {
        get
        {
            nuint length;
            byte* value = LevelDbNative.Api.IterValue(Live, &length);
            if (length > int.MaxValue) throw new InvalidDataException($"A record in the LevelDB database '{database.Path}' has a {length}-byte value, more than a Datum can hold.");
            return new ReadOnlySpan<byte>(value, (int)length);
        }
    }

    private nint Live => iterator != 0 ? iterator : throw new ObjectDisposedException(nameof(LevelDbIterator));

    /// <summary>Whether the iterator is on a record; when it is not, throws the error that stopped it, if any.</summary>
    private bool Valid()
    {
        var api = LevelDbNative.Api;
        if (api.IterValid(iterator) != 0) return true;
        byte* error = null;
        api.IterGetError(iterator, &error);
        api.ThrowIfError(error, database.Path, "read");
        return false;
    }

    public void Dispose()
    {
        var api = LevelDbNative.Api;
        if (iterator != 0) api.IterDestroy(iterator);
        if (readOptions != 0) api.ReadOptionsDestroy(readOptions);
        iterator = readOptions = 0;
    }
}
