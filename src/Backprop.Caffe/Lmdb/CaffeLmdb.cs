using LightningDB;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// What the LMDB reader and writer share: how a Caffe LMDB directory is recognised and opened, and the error
/// messages that tell users how to make one.
/// </summary>
internal static class CaffeLmdb
{
    public const string DataFile = "data.mdb";
    public const string LockFile = "lock.mdb";

    public const string HowToCreate =
        "Create one with 'backprop convert-mnist <images-idx> <labels-idx> <output-dir>' (MnistToLmdb.Convert), or with Caffe's own convert tools";

    /// <summary>Opens the LMDB environment in <paramref name="directory"/> read-only, with a clear error for every way that can fail.</summary>
    public static LightningEnvironment OpenReadOnly(string directory)
    {
        string full = Path.GetFullPath(directory);
        LmdbLibrary.Initialize();
        if (File.Exists(full))
            throw new InvalidDataException($"'{full}' is a file, but a Caffe LMDB is a directory holding {DataFile} and {LockFile}. {HowToCreate}.");
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"The LMDB directory '{full}' does not exist. {HowToCreate}.");
        if (!File.Exists(Path.Combine(full, DataFile)))
            throw new InvalidDataException($"'{full}' is not an LMDB database: it has no {DataFile}. {HowToCreate}.");

        var environment = new LightningEnvironment(full);
        try
        {
            // NoThreadLocalStorage: a read transaction may be used from a thread other than the one that began it
            // (a data loader's worker). Caffe opens its databases with the same flags.
            environment.Open(EnvironmentOpenFlags.ReadOnly | EnvironmentOpenFlags.NoThreadLocalStorage);
            return environment;
        }
        catch (LightningException e)
        {
            environment.Dispose();
            throw new InvalidDataException(Describe(full, e), e);
        }
    }

    /// <summary>Why an existing directory could not be opened, with what the user can do about it.</summary>
    public static string Describe(string directory, LightningException e) =>
        $"'{directory}' could not be opened as an LMDB database ({e.Message}). Either it is not an LMDB database, or it was " +
        $"written by another major version of LMDB than the one loaded ({LmdbLibrary.Initialize()}): LMDB 0.9 (what Caffe " +
        "uses) and LMDB 1.0 (bundled with LightningDB) cannot open each other's files; see LmdbLibrary for choosing the " +
        $"library, or convert the database once with mdb_dump and mdb_load. {HowToCreate}.";
}
