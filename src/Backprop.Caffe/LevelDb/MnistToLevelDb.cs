using Backprop.Caffe.Lmdb;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Converts an MNIST IDX pair to a Caffe LevelDB database (Caffe's <c>convert_mnist_data --backend=leveldb</c>): the
/// same records, under the same keys, as <see cref="MnistToLmdb.Convert"/> writes to an LMDB.
/// </summary>
public static class MnistToLevelDb
{
    /// <summary>Converts the pair and returns the number of records written.</summary>
    /// <param name="imagesIdxPath">Images: unsigned bytes (N, rows, cols), plain or gzipped.</param>
    /// <param name="labelsIdxPath">Labels: unsigned bytes (N), plain or gzipped.</param>
    /// <param name="outputDirectory">The LevelDB directory to create; it must not exist or be empty.</param>
    /// <param name="overwrite">Replace an existing LevelDB directory (one holding only LevelDB's files).</param>
    /// <param name="progress">Receives the number of records written so far, every 1000 records and at the end.</param>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed; the message says which package to install.</exception>
    public static int Convert(string imagesIdxPath, string labelsIdxPath, string outputDirectory, bool overwrite = false, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ImagesToLevelDb.CheckOutput(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar), overwrite);   // before the reading
        var (pixels, labels, rows, cols) = MnistToLmdb.ReadPair(imagesIdxPath, labelsIdxPath);
        return ImagesToLevelDb.Write(pixels, labels, 1, rows, cols, outputDirectory, overwrite, progress);
    }
}
