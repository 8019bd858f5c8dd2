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
        string output = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        CheckOutput(output, overwrite);

        var images = IdxFile.Read(imagesIdxPath);
        var labels = IdxFile.Read(labelsIdxPath);
        if (images.Bytes is not byte[] pixels || images.Shape.Length != 3)
            throw new InvalidDataException($"'{imagesIdxPath}' should hold MNIST images, unsigned bytes of shape (N, rows, cols), but holds {images.Type} of shape ({string.Join(", ", images.Shape)}).");
        if (labels.Bytes is not byte[] labelBytes || labels.Shape.Length != 1)
            throw new InvalidDataException($"'{labelsIdxPath}' should hold MNIST labels, unsigned bytes of shape (N), but holds {labels.Type} of shape ({string.Join(", ", labels.Shape)}).");
        int count = images.Shape[0], rows = images.Shape[1], cols = images.Shape[2];
        if (labels.Shape[0] != count)
            throw new InvalidDataException($"'{imagesIdxPath}' holds {count} images but '{labelsIdxPath}' holds {labels.Shape[0]} labels.");

        string parent = Path.GetDirectoryName(output) ?? throw new ArgumentException($"'{output}' has no parent directory.", nameof(outputDirectory));
        System.IO.Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, "." + Path.GetFileName(output) + ".tmp-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(temporary);
        try
        {
            Write(temporary, pixels, labelBytes, count, rows, cols, progress);
            Replace(output, temporary, overwrite);
        }
        catch
        {
            try { System.IO.Directory.Delete(temporary, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
        return count;
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

    private static void CheckOutput(string output, bool overwrite)
    {
        if (File.Exists(output))
            throw new IOException($"'{output}' is a file; the LMDB output must be a directory that does not exist yet.");
        if (!System.IO.Directory.Exists(output) || !System.IO.Directory.EnumerateFileSystemEntries(output).Any()) return;
        if (!overwrite)
            throw new IOException($"The output directory '{output}' exists and is not empty; delete it, choose another, or pass overwrite: true (--overwrite) to replace an existing LMDB.");
        var foreign = System.IO.Directory.EnumerateFileSystemEntries(output)
            .Select(Path.GetFileName)
            .Where(name => name is not (CaffeLmdb.DataFile or CaffeLmdb.LockFile))
            .ToList();
        if (foreign.Count > 0)
            throw new IOException($"The output directory '{output}' holds more than an LMDB database ({string.Join(", ", foreign.Take(5))}); it is not replaced even with overwrite. Delete it yourself or choose another.");
    }

    private static void Replace(string output, string temporary, bool overwrite)
    {
        string? old = null;
        if (System.IO.Directory.Exists(output))
        {
            CheckOutput(output, overwrite); // again: something may have appeared meanwhile
            old = temporary + ".old";
            System.IO.Directory.Move(output, old);
        }
        System.IO.Directory.Move(temporary, output);
        if (old is not null) System.IO.Directory.Delete(old, recursive: true);
    }

    private static void Write(string directory, byte[] pixels, byte[] labels, int count, int rows, int cols, IProgress<int>? progress)
    {
        int imageSize = rows * cols;
        using (var writer = new LmdbWriter(Path.Combine(directory, CaffeLmdb.DataFile)))
        {
            for (int i = 0; i < count; i++)
            {
                var datum = MakeDatum(pixels.AsSpan(i * imageSize, imageSize), rows, cols, labels[i]);
                writer.Add(System.Text.Encoding.ASCII.GetBytes(Key(i)), datum.ToByteArray());
                if ((i + 1) % RecordsPerTransaction == 0) progress?.Report(i + 1);
            }
            writer.Complete();
        }
        if (count % RecordsPerTransaction != 0) progress?.Report(count);
        // LMDB's readers expect a lock file beside the data; an empty one is set up by the first process that opens it.
        File.Create(Path.Combine(directory, CaffeLmdb.LockFile)).Dispose();
    }
}
