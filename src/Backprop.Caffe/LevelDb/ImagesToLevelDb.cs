using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Writes images held in memory as a Caffe LevelDB database (Caffe's <c>-backend leveldb</c>): one <see cref="Datum"/>
/// per image (channels, height, width, the raw bytes in (C, H, W) order, the label), keyed by the item index as 8
/// zero-padded decimal digits (<see cref="MnistToLmdb.Key"/>) — the same records <see cref="ImagesToLmdb"/> writes.
/// </summary>
/// <remarks>
/// The database is built in a temporary directory beside the output and renamed into place when complete, so an
/// interrupted write leaves nothing that looks finished. Needs the system's LevelDB library (Debian: <c>libleveldb1d</c>).
/// </remarks>
public static class ImagesToLevelDb
{
    /// <summary>Writes the images and returns the number of records written.</summary>
    /// <param name="pixels">The images one after the other, each (channels, height, width) unsigned bytes.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="outputDirectory">The LevelDB directory to create; it must not exist or be empty.</param>
    /// <param name="overwrite">Replace an existing LevelDB directory (one holding only LevelDB's files).</param>
    /// <param name="progress">Receives the number of records written so far, every <see cref="LevelDbWriter.RecordsPerBatch"/> records and at the end.</param>
    /// <param name="compress">Snappy-compress the tables (LevelDB's default, as Caffe writes them).</param>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed; the message says which package to install.</exception>
    public static int Write(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int channels, int height, int width,
        string outputDirectory, bool overwrite = false, IProgress<int>? progress = null, bool compress = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long imageSize = (long)channels * height * width;
        if (pixels.Length != imageSize * labels.Length)
            throw new ArgumentException($"{labels.Length} labels need {labels.Length} images of {channels}x{height}x{width} bytes ({imageSize * labels.Length}), but {pixels.Length} bytes were given.", nameof(pixels));
        using var database = PendingLevelDb.Begin(outputDirectory, overwrite, compress);
        ImagesToLmdb.WriteRecords(database, LevelDbWriter.RecordsPerBatch, pixels, labels, channels, height, width, progress);
        database.Commit();
        return labels.Length;
    }

    /// <summary>Whether <paramref name="name"/> is a file LevelDB keeps in a database directory.</summary>
    internal static bool IsLevelDbFile(string name) =>
        name is LevelDbDatabase.CurrentFile or "LOCK" or "LOG" or "LOG.old"
        || name.StartsWith("MANIFEST-", StringComparison.Ordinal)
        || name.EndsWith(".ldb", StringComparison.Ordinal) || name.EndsWith(".sst", StringComparison.Ordinal)
        || name.EndsWith(".log", StringComparison.Ordinal) || name.EndsWith(".dbtmp", StringComparison.Ordinal);

    /// <summary>Throws when <paramref name="output"/> (a full path) is a file, or a non-empty directory that may not or cannot be replaced.</summary>
    internal static void CheckOutput(string output, bool overwrite)
    {
        if (File.Exists(output))
            throw new IOException($"'{output}' is a file; the LevelDB output must be a directory that does not exist yet.");
        if (!Directory.Exists(output) || !Directory.EnumerateFileSystemEntries(output).Any()) return;
        if (!overwrite)
            throw new IOException($"The output directory '{output}' exists and is not empty; delete it, choose another, or pass overwrite: true (--overwrite) to replace an existing LevelDB.");
        var foreign = Directory.EnumerateFileSystemEntries(output)
            .Where(entry => Directory.Exists(entry) || !IsLevelDbFile(Path.GetFileName(entry)))
            .Select(Path.GetFileName)
            .ToList();
        if (foreign.Count > 0 || !File.Exists(Path.Combine(output, LevelDbDatabase.CurrentFile)))
            throw new IOException($"The output directory '{output}' is not a LevelDB database{(foreign.Count > 0 ? $" (it holds {string.Join(", ", foreign.Take(5))})" : "")}; "
                + "it is not replaced even with overwrite. Delete it yourself or choose another.");
    }

    /// <summary>Moves the finished <paramref name="temporary"/> database to <paramref name="output"/>, replacing (after checking it again) what is there.</summary>
    internal static void Replace(string output, string temporary, bool overwrite)
    {
        string? old = null;
        if (Directory.Exists(output))
        {
            CheckOutput(output, overwrite);   // again: something may have appeared meanwhile
            old = temporary + ".old";
            Directory.Move(output, old);
        }
        Directory.Move(temporary, output);
        if (old is not null) Directory.Delete(old, recursive: true);
    }
}
