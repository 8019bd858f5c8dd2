using Backprop.Caffe.Lmdb;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// A LevelDB database being written: records go to a temporary directory beside the output, which <see cref="Commit"/>
/// renames into place; disposing without committing deletes it, so an interrupted write leaves nothing that looks finished.
/// </summary>
internal sealed class PendingLevelDb : IPendingDatabase
{
    private readonly string output, temporary;
    private readonly bool overwrite;
    private readonly LevelDbWriter writer;
    private bool committed;

    private PendingLevelDb(string output, string temporary, bool overwrite, bool compress)
    {
        (this.output, this.temporary, this.overwrite) = (output, temporary, overwrite);
        writer = new LevelDbWriter(temporary, compress);
    }

    /// <summary>
    /// Checks the output (see <see cref="ImagesToLevelDb.CheckOutput"/>) and the LevelDB library, then starts the
    /// temporary database.
    /// </summary>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed (said before anything is created).</exception>
    public static PendingLevelDb Begin(string outputDirectory, bool overwrite, bool compress = true)
    {
        string output = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        ImagesToLevelDb.CheckOutput(output, overwrite);
        _ = LevelDbNative.Api;   // a missing library is reported before anything is created
        string parent = Path.GetDirectoryName(output) ?? throw new ArgumentException($"'{output}' has no parent directory.", nameof(outputDirectory));
        Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, "." + Path.GetFileName(output) + ".tmp-" + Guid.NewGuid().ToString("N"));
        try { return new PendingLevelDb(output, temporary, overwrite, compress); }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <inheritdoc/>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => writer.Add(key, value);

    /// <summary>Writes what is pending, closes the database (releasing LevelDB's lock) and moves it into place.</summary>
    public void Commit()
    {
        writer.Complete();
        writer.Dispose();
        ImagesToLevelDb.Replace(output, temporary, overwrite);
        committed = true;
    }

    public void Dispose()
    {
        writer.Dispose();
        if (!committed) DeleteQuietly(temporary);
    }

    private static void DeleteQuietly(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
