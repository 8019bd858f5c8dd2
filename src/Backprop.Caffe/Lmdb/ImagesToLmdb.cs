using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Writes images held in memory as a Caffe LMDB database, as Caffe's converters do: one <see cref="Datum"/> per image
/// (channels, height, width, the raw bytes in (C, H, W) order, the label), keyed by the item index as 8 zero-padded
/// decimal digits (<see cref="MnistToLmdb.Key"/>).
/// </summary>
/// <remarks>
/// The database is built in a temporary directory beside the output and renamed into place when complete, so an
/// interrupted write leaves nothing that looks finished. The file is written in managed code (LMDB 0.9's format,
/// the one Caffe's builds read); no native LMDB library is needed.
/// </remarks>
public static class ImagesToLmdb
{
    /// <summary>Writes the images and returns the number of records written.</summary>
    /// <param name="pixels">The images one after the other, each (channels, height, width) unsigned bytes.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="outputDirectory">The LMDB directory to create; it must not exist or be empty.</param>
    /// <param name="overwrite">Replace an existing LMDB directory (one holding only data.mdb and lock.mdb).</param>
    /// <param name="progress">Receives the number of records written so far, every <see cref="MnistToLmdb.RecordsPerTransaction"/> records and at the end.</param>
    public static int Write(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int channels, int height, int width,
        string outputDirectory, bool overwrite = false, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long imageSize = (long)channels * height * width;
        if (pixels.Length != imageSize * labels.Length)
            throw new ArgumentException($"{labels.Length} labels need {labels.Length} images of {channels}x{height}x{width} bytes ({imageSize * labels.Length}), but {pixels.Length} bytes were given.", nameof(pixels));
        using var database = PendingLmdb.Begin(outputDirectory, overwrite);
        WriteRecords(database, MnistToLmdb.RecordsPerTransaction, pixels, labels, channels, height, width, progress);
        database.Commit();
        return labels.Length;
    }

    /// <summary>Throws when <paramref name="output"/> (a full path) is a file, or a non-empty directory that may not or cannot be replaced.</summary>
    internal static void CheckOutput(string output, bool overwrite)
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

    internal static void Replace(string output, string temporary, bool overwrite)
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

    /// <summary>Each raw image as a Datum under MNIST's 8-digit keys, into <paramref name="database"/> (an LMDB or a LevelDB);
    /// progress every <paramref name="reportEvery"/> records and at the end.</summary>
    internal static void WriteRecords(IPendingDatabase database, int reportEvery, ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels,
        int channels, int height, int width, IProgress<int>? progress)
    {
        int imageSize = channels * height * width, count = labels.Length;
        for (int i = 0; i < count; i++)
        {
            var datum = new Datum
            {
                Channels = channels,
                Height = height,
                Width = width,
                Data = ByteString.CopyFrom(pixels.Slice(i * imageSize, imageSize)),
                Label = labels[i],
            };
            database.Add(System.Text.Encoding.ASCII.GetBytes(MnistToLmdb.Key(i)), datum.ToByteArray());
            if ((i + 1) % reportEvery == 0) progress?.Report(i + 1);
        }
        if (count % reportEvery != 0) progress?.Report(count);
    }
}
