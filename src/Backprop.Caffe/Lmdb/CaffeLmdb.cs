namespace Backprop.Caffe.Lmdb;

/// <summary>
/// What the LMDB reader and writer share: how a Caffe LMDB directory is recognised, and the error messages that
/// tell users how to make one.
/// </summary>
internal static class CaffeLmdb
{
    public const string DataFile = "data.mdb";
    public const string LockFile = "lock.mdb";

    public const string HowToCreate =
        "Create one with 'backprop convert-mnist <images-idx> <labels-idx> <output-dir>' (MnistToLmdb.Convert), " +
        "'backprop convert-imageset <root-folder> <list-file> <output-dir>' (ImagesetToLmdb.Convert), or with Caffe's own convert tools";

    /// <summary>Opens the data file of the LMDB directory <paramref name="directory"/> (a full path), with a clear error for every way that can fail.</summary>
    public static LmdbDataFile Open(string directory)
    {
        if (File.Exists(directory))
            throw new InvalidDataException($"'{directory}' is a file, but a Caffe LMDB is a directory holding {DataFile} and {LockFile}. {HowToCreate}.");
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The LMDB directory '{directory}' does not exist. {HowToCreate}.");
        string data = Path.Combine(directory, DataFile);
        if (!File.Exists(data))
            throw new InvalidDataException($"'{directory}' is not an LMDB database: it has no {DataFile}. {HowToCreate}.");
        return LmdbDataFile.Open(data);
    }
}
