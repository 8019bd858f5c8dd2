using System.Runtime.InteropServices;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// The C API of the system's LevelDB library (<c>leveldb/c.h</c>), found at run time. Function pointers are taken
/// from the library by name rather than through <c>DllImport</c>, so the library's file name can be chosen from those
/// distributions use (Debian's <c>libleveldb.so.1d</c>, then <c>.so.1</c>, then the development link <c>.so</c>) without
/// taking over this assembly's one DllImport resolver.
/// </summary>
internal sealed unsafe class LevelDbNative
{
    /// <summary>The file names tried, in order.</summary>
    public static readonly string[] LibraryNames = ["libleveldb.so.1d", "libleveldb.so.1", "libleveldb.so", "libleveldb.dylib", "leveldb.dll"];

    /// <summary>leveldb_compression: none or Snappy (LevelDB's default, which Caffe keeps).</summary>
    public const int NoCompression = 0, SnappyCompression = 1;

    private static readonly Lazy<LevelDbNative> Instance = new(() => Load(LibraryNames));

    /// <summary>The library's functions; loads the library on first use.</summary>
    /// <exception cref="DllNotFoundException">No LevelDB library is installed; the message says which package to install.</exception>
    public static LevelDbNative Api => Instance.Value;

    public delegate* unmanaged[Cdecl]<nint> OptionsCreate;
    public delegate* unmanaged[Cdecl]<nint, void> OptionsDestroy;
    public delegate* unmanaged[Cdecl]<nint, byte, void> OptionsSetCreateIfMissing;
    public delegate* unmanaged[Cdecl]<nint, byte, void> OptionsSetErrorIfExists;
    public delegate* unmanaged[Cdecl]<nint, byte, void> OptionsSetParanoidChecks;
    public delegate* unmanaged[Cdecl]<nint, int, void> OptionsSetCompression;
    public delegate* unmanaged[Cdecl]<nint, byte*, byte**, nint> Open;
    public delegate* unmanaged[Cdecl]<nint, void> Close;
    public delegate* unmanaged[Cdecl]<nint> ReadOptionsCreate;
    public delegate* unmanaged[Cdecl]<nint, void> ReadOptionsDestroy;
    public delegate* unmanaged[Cdecl]<nint, byte, void> ReadOptionsSetVerifyChecksums;
    public delegate* unmanaged[Cdecl]<nint, byte, void> ReadOptionsSetFillCache;
    public delegate* unmanaged[Cdecl]<nint> WriteOptionsCreate;
    public delegate* unmanaged[Cdecl]<nint, void> WriteOptionsDestroy;
    public delegate* unmanaged[Cdecl]<nint, byte, void> WriteOptionsSetSync;
    public delegate* unmanaged[Cdecl]<nint, nint, nint> CreateIterator;
    public delegate* unmanaged[Cdecl]<nint, void> IterDestroy;
    public delegate* unmanaged[Cdecl]<nint, byte> IterValid;
    public delegate* unmanaged[Cdecl]<nint, void> IterSeekToFirst;
    public delegate* unmanaged[Cdecl]<nint, void> IterNext;
    public delegate* unmanaged[Cdecl]<nint, nuint*, byte*> IterKey;
    public delegate* unmanaged[Cdecl]<nint, nuint*, byte*> IterValue;
    public delegate* unmanaged[Cdecl]<nint, byte**, void> IterGetError;
    public delegate* unmanaged[Cdecl]<nint> WriteBatchCreate;
    public delegate* unmanaged[Cdecl]<nint, void> WriteBatchDestroy;
    public delegate* unmanaged[Cdecl]<nint, void> WriteBatchClear;
    public delegate* unmanaged[Cdecl]<nint, byte*, nuint, byte*, nuint, void> WriteBatchPut;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, byte**, void> Write;
    public delegate* unmanaged[Cdecl]<void*, void> Free;

    /// <summary>The file the library was loaded from (one of <see cref="LibraryNames"/>).</summary>
    public string LibraryName { get; private init; } = "";

    /// <summary>Loads the first of <paramref name="names"/> that the system has.</summary>
    internal static LevelDbNative Load(IReadOnlyList<string> names)
    {
        foreach (string name in names)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle)) continue;
            try
            {
                return Bind(handle, name);
            }
            catch (EntryPointNotFoundException e)
            {
                throw new DllNotFoundException($"The LevelDB library {name} lacks the C API function this build needs ({e.Message}); install LevelDB 1.20 or newer (Debian/Ubuntu: apt-get install libleveldb1d).", e);
            }
        }
        throw new DllNotFoundException(
            $"LevelDB is not installed: none of {string.Join(", ", names)} could be loaded. Caffe's LEVELDB backend reads and writes "
            + "through the system's LevelDB library; install it (Debian/Ubuntu: apt-get install libleveldb1d), or convert the data to LMDB (backend: LMDB).");
    }

    private static LevelDbNative Bind(nint library, string name)
    {
        nint F(string symbol) => NativeLibrary.GetExport(library, symbol);
        return new LevelDbNative
        {
            LibraryName = name,
            OptionsCreate = (delegate* unmanaged[Cdecl]<nint>)F("leveldb_options_create"),
            OptionsDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_options_destroy"),
            OptionsSetCreateIfMissing = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_options_set_create_if_missing"),
            OptionsSetErrorIfExists = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_options_set_error_if_exists"),
            OptionsSetParanoidChecks = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_options_set_paranoid_checks"),
            OptionsSetCompression = (delegate* unmanaged[Cdecl]<nint, int, void>)F("leveldb_options_set_compression"),
            Open = (delegate* unmanaged[Cdecl]<nint, byte*, byte**, nint>)F("leveldb_open"),
            Close = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_close"),
            ReadOptionsCreate = (delegate* unmanaged[Cdecl]<nint>)F("leveldb_readoptions_create"),
            ReadOptionsDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_readoptions_destroy"),
            ReadOptionsSetVerifyChecksums = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_readoptions_set_verify_checksums"),
            ReadOptionsSetFillCache = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_readoptions_set_fill_cache"),
            WriteOptionsCreate = (delegate* unmanaged[Cdecl]<nint>)F("leveldb_writeoptions_create"),
            WriteOptionsDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_writeoptions_destroy"),
            WriteOptionsSetSync = (delegate* unmanaged[Cdecl]<nint, byte, void>)F("leveldb_writeoptions_set_sync"),
            CreateIterator = (delegate* unmanaged[Cdecl]<nint, nint, nint>)F("leveldb_create_iterator"),
            IterDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_iter_destroy"),
            IterValid = (delegate* unmanaged[Cdecl]<nint, byte>)F("leveldb_iter_valid"),
            IterSeekToFirst = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_iter_seek_to_first"),
            IterNext = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_iter_next"),
            IterKey = (delegate* unmanaged[Cdecl]<nint, nuint*, byte*>)F("leveldb_iter_key"),
            IterValue = (delegate* unmanaged[Cdecl]<nint, nuint*, byte*>)F("leveldb_iter_value"),
            IterGetError = (delegate* unmanaged[Cdecl]<nint, byte**, void>)F("leveldb_iter_get_error"),
            WriteBatchCreate = (delegate* unmanaged[Cdecl]<nint>)F("leveldb_writebatch_create"),
            WriteBatchDestroy = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_writebatch_destroy"),
            WriteBatchClear = (delegate* unmanaged[Cdecl]<nint, void>)F("leveldb_writebatch_clear"),
            WriteBatchPut = (delegate* unmanaged[Cdecl]<nint, byte*, nuint, byte*, nuint, void>)F("leveldb_writebatch_put"),
            Write = (delegate* unmanaged[Cdecl]<nint, nint, nint, byte**, void>)F("leveldb_write"),
            Free = (delegate* unmanaged[Cdecl]<void*, void>)F("leveldb_free"),
        };
    }

    /// <summary>
    /// Turns an error the C API left in <c>*errptr</c> into an exception naming the database, and frees it; does
    /// nothing when <paramref name="error"/> is null.
    /// </summary>
    public void ThrowIfError(byte* error, string path, string action)
    {
        if (error == null) return;
        string message = Marshal.PtrToStringUTF8((nint)error) ?? "unknown error";
        Free(error);
        throw Describe(message, path, action);
    }

    /// <summary>The exception for LevelDB's error <paramref name="message"/>, in the user's terms.</summary>
    internal static Exception Describe(string message, string path, string action)
    {
        // LevelDB holds an fcntl lock on <db>/LOCK while a database is open: "IO error: lock <db>/LOCK: ..." (another
        // process), "... already held by process" (this one).
        if (message.Contains("/LOCK", StringComparison.Ordinal) && message.Contains("lock", StringComparison.OrdinalIgnoreCase))
            return new IOException($"The LevelDB database '{path}' is locked: LevelDB lets only one process open a database at a time, and another "
                + $"process (or another open handle in this one: a converter, a training run, a second net reading the same source) has it open. "
                + $"Close that one first, or convert the data to LMDB, which many readers can share. ({message})");
        if (message.StartsWith("Corruption", StringComparison.Ordinal))
            return new InvalidDataException($"The LevelDB database '{path}' is damaged ({action}): {message}");
        if (message.StartsWith("Invalid argument", StringComparison.Ordinal) && message.Contains("does not exist", StringComparison.Ordinal))
            return new InvalidDataException($"'{path}' is not a LevelDB database (it has no CURRENT file): {message}");
        if (message.StartsWith("Invalid argument", StringComparison.Ordinal) && message.Contains("exists", StringComparison.Ordinal))
            return new IOException($"The LevelDB database '{path}' already exists: {message}");
        return new IOException($"LevelDB could not {action} '{path}': {message}");
    }
}
