using System.Globalization;
using Backprop.Caffe.Proto;
using Backprop.Data;
using Google.Protobuf;
using LightningDB;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Converts an MNIST IDX pair to a Caffe LMDB database, record for record as Caffe's
/// <c>examples/mnist/convert_mnist_data</c> does: one <see cref="Datum"/> per image (channels 1, height and
/// width from the file, data the raw pixel bytes, the label), keyed by the item index as 8 zero-padded
/// decimal digits (<c>00000000</c>, <c>00000001</c>, ...), committed in transactions of 1000 records.
/// </summary>
/// <remarks>
/// The database is built in a temporary directory beside the output and renamed into place when complete, so
/// an interrupted conversion leaves nothing that looks finished. The files are those of the bundled LMDB 1.0
/// library, which LMDB 0.9 (what Caffe builds link) cannot open; the records themselves are Caffe's.
/// </remarks>
public static class MnistToLmdb
{
    /// <summary>Records per write transaction, as in Caffe's converter.</summary>
    public const int RecordsPerTransaction = 1000;

    /// <summary>Converts the pair and returns the number of records written.</summary>
    /// <param name="imagesIdxPath">Images: unsigned bytes (N, rows, cols), plain or gzipped.</param>
    /// <param name="labelsIdxPath">Labels: unsigned bytes (N), plain or gzipped.</param>
    /// <param name="outputDirectory">The LMDB directory to create; it must not exist or be empty.</param>
    /// <param name="overwrite">Replace an existing LMDB directory (one holding only data.mdb and lock.mdb).</param>
    /// <param name="progress">Receives the number of records committed so far, after each transaction.</param>
    public static int Convert(string imagesIdxPath, string labelsIdxPath, string outputDirectory, bool overwrite = false, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        string output = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        LmdbLibrary.Initialize();
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
        // Room for every record with B-tree overhead: values of ~imageSize bytes, at least two per 4 KiB page.
        long mapSize = Math.Max(64L << 20, 3L * count * (imageSize + 64) + (16L << 20));
        using var environment = new LightningEnvironment(directory, new EnvironmentConfiguration { MapSize = mapSize });
        environment.Open(EnvironmentOpenFlags.None);
        var transaction = environment.BeginTransaction();
        try
        {
            var database = transaction.OpenDatabase();
            for (int i = 0; i < count; i++)
            {
                var datum = MakeDatum(pixels.AsSpan(i * imageSize, imageSize), rows, cols, labels[i]);
                transaction.Put(database, System.Text.Encoding.ASCII.GetBytes(Key(i)), datum.ToByteArray()).ThrowOnError();
                if ((i + 1) % RecordsPerTransaction == 0)
                {
                    transaction.Commit().ThrowOnError();
                    transaction.Dispose();
                    progress?.Report(i + 1);
                    transaction = environment.BeginTransaction();
                    database = transaction.OpenDatabase();
                }
            }
            if (count % RecordsPerTransaction != 0)
            {
                transaction.Commit().ThrowOnError();
                progress?.Report(count);
            }
        }
        finally
        {
            transaction.Dispose();
        }
    }
}
