using System.Globalization;
using Backprop.Caffe.Proto;
using Backprop.Data;
using Google.Protobuf;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Converts an MNIST IDX pair to a Caffe LMDB database, record for record as Caffe's
/// <c>examples/mnist/convert_mnist_data</c> does: one <see cref="Datum"/> per image (channels 1, height and
/// width from the file, data the raw pixel bytes, the label), keyed by the item index as 8 zero-padded
/// decimal digits (<c>00000000</c>, <c>00000001</c>, ...).
/// </summary>
/// <remarks>
/// The database is built in a temporary directory beside the output and renamed into place when complete, so
/// an interrupted conversion leaves nothing that looks finished. The file is written in managed code
/// (<see cref="LmdbWriter"/>) in LMDB 0.9's format, the one Caffe's builds read; no native LMDB library is needed.
/// </remarks>
public static class MnistToLmdb
{
    /// <summary>Progress is reported every this many records (Caffe's converter commits a transaction as often).</summary>
    public const int RecordsPerTransaction = 1000;

    /// <summary>Converts the pair and returns the number of records written.</summary>
    /// <param name="imagesIdxPath">Images: unsigned bytes (N, rows, cols), plain or gzipped.</param>
    /// <param name="labelsIdxPath">Labels: unsigned bytes (N), plain or gzipped.</param>
    /// <param name="outputDirectory">The LMDB directory to create; it must not exist or be empty.</param>
    /// <param name="overwrite">Replace an existing LMDB directory (one holding only data.mdb and lock.mdb).</param>
    /// <param name="progress">Receives the number of records written so far, every <see cref="RecordsPerTransaction"/> records and at the end.</param>
    public static int Convert(string imagesIdxPath, string labelsIdxPath, string outputDirectory, bool overwrite = false, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ImagesToLmdb.CheckOutput(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar), overwrite); // before the reading
        var (pixels, labelBytes, rows, cols) = ReadPair(imagesIdxPath, labelsIdxPath);
        return ImagesToLmdb.Write(pixels, labelBytes, 1, rows, cols, outputDirectory, overwrite, progress);
    }

    /// <summary>Reads an MNIST IDX pair: the images' bytes (N, rows, cols) and the labels (N), checked against each other.</summary>
    internal static (byte[] Pixels, byte[] Labels, int Rows, int Cols) ReadPair(string imagesIdxPath, string labelsIdxPath)
    {
        var images = IdxFile.Read(imagesIdxPath);
        var labels = IdxFile.Read(labelsIdxPath);
        if (images.Bytes is not byte[] pixels || images.Shape.Length != 3)
            throw new InvalidDataException($"'{imagesIdxPath}' should hold MNIST images, unsigned bytes of shape (N, rows, cols), but holds {images.Type} of shape ({string.Join(", ", images.Shape)}).");
        if (labels.Bytes is not byte[] labelBytes || labels.Shape.Length != 1)
            throw new InvalidDataException($"'{labelsIdxPath}' should hold MNIST labels, unsigned bytes of shape (N), but holds {labels.Type} of shape ({string.Join(", ", labels.Shape)}).");
        int count = images.Shape[0], rows = images.Shape[1], cols = images.Shape[2];
        if (labels.Shape[0] != count)
            throw new InvalidDataException($"'{imagesIdxPath}' holds {count} images but '{labelsIdxPath}' holds {labels.Shape[0]} labels.");
        return (pixels, labelBytes, rows, cols);
    }

    /// <summary>The Datum Caffe's converter makes for one image.</summary>
    public static Datum MakeDatum(ReadOnlySpan<byte> pixels, int rows, int cols, int label) => new()
    {
        Channels = 1,
        Height = rows,
        Width = cols,
        Data = ByteString.CopyFrom(pixels),
        Label = label,
    };

    /// <summary>The key of item <paramref name="index"/>: 8 decimal digits with leading zeros (Caffe's <c>format_int(index, 8)</c>).</summary>
    public static string Key(int index) => index.ToString("D8", CultureInfo.InvariantCulture);
}
