using System.Text;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// An open LevelDB database (<c>leveldb_t*</c>), closed on dispose. LevelDB locks the directory while it is open,
/// so only one process (and one handle) can use it at a time; the readers here close it as soon as they are done.
/// </summary>
internal sealed unsafe class LevelDbDatabase : IDisposable
{
    public const string CurrentFile = "CURRENT";

    public const string HowToCreate =
        "Create one with MnistToLevelDb.Convert or ImagesToLevelDb.Write (backprop's convert commands with --backend leveldb), or with Caffe's convert tools (-backend leveldb)";

    private nint handle;

    private LevelDbDatabase(string path, nint handle)
    {
        Path = path;
        this.handle = handle;
    }

    /// <summary>The database directory, as a full path.</summary>
    public string Path { get; }

    /// <summary>The <c>leveldb_t*</c>; valid until disposed.</summary>
    public nint Handle => handle != 0 ? handle : throw new ObjectDisposedException(nameof(LevelDbDatabase), $"The LevelDB database '{Path}' is closed.");

    /// <summary>Opens the existing database at <paramref name="path"/> (a full path) for reading, with a clear error for each way that fails.</summary>
    public static LevelDbDatabase OpenExisting(string path)
    {
        if (File.Exists(path))
            throw new InvalidDataException($"'{path}' is a file, but a LevelDB database is a directory (holding CURRENT, MANIFEST-*, *.ldb files). {HowToCreate}.");
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"The LevelDB directory '{path}' does not exist. {HowToCreate}.");
        if (!File.Exists(System.IO.Path.Combine(path, CurrentFile)))
            throw new InvalidDataException($"'{path}' is not a LevelDB database: it has no {CurrentFile} file. {HowToCreate}.");
        return Open(path, create: false, LevelDbNative.SnappyCompression);
    }

    /// <summary>Creates a new database at <paramref name="path"/> (a full path; an error if one is there).</summary>
    public static LevelDbDatabase Create(string path, int compression) => Open(path, create: true, compression);

    private static LevelDbDatabase Open(string path, bool create, int compression)
    {
        var api = LevelDbNative.Api;
        nint options = api.OptionsCreate();
        try
        {
            api.OptionsSetCreateIfMissing(options, create ? (byte)1 : (byte)0);
            api.OptionsSetErrorIfExists(options, create ? (byte)1 : (byte)0);
            // Reading: report damage found while opening (a bad log or manifest) rather than skipping past it.
            api.OptionsSetParanoidChecks(options, create ? (byte)0 : (byte)1);
            api.OptionsSetCompression(options, compression);
            byte[] name = Encoding.UTF8.GetBytes(path + "\0");
            byte* error = null;
            nint db;
            fixed (byte* n = name) db = api.Open(options, n, &error);
            api.ThrowIfError(error, path, create ? "create" : "open");
            if (db == 0) throw new IOException($"LevelDB could not {(create ? "create" : "open")} '{path}' and gave no reason.");
            return new LevelDbDatabase(path, db);
        }
        finally
        {
            api.OptionsDestroy(options);
        }
    }

    public void Dispose()
    {
        nint h = Interlocked.Exchange(ref handle, 0);
        if (h != 0) LevelDbNative.Api.Close(h);
    }
}
