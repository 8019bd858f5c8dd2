namespace Backprop.Caffe.Lmdb;

/// <summary>
/// An LMDB database being written: records go to a temporary directory beside the output, which <see cref="Commit"/>
/// renames into place; disposing without committing deletes it, so an interrupted write leaves nothing that looks finished.
/// </summary>
internal sealed class PendingLmdb : IPendingDatabase
{
    private readonly string output, temporary;
    private readonly bool overwrite;
    private bool committed;

    private PendingLmdb(string output, string temporary, bool overwrite)
    {
        (this.output, this.temporary, this.overwrite) = (output, temporary, overwrite);
        Writer = new LmdbWriter(Path.Combine(temporary, CaffeLmdb.DataFile));
    }

    /// <summary>Add the records here, keys in increasing byte order.</summary>
    public LmdbWriter Writer { get; }

    /// <inheritdoc/>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Writer.Add(key, value);

    /// <summary>Checks the output (see <see cref="ImagesToLmdb.CheckOutput"/>) and starts the temporary database.</summary>
    public static PendingLmdb Begin(string outputDirectory, bool overwrite)
    {
        string output = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        ImagesToLmdb.CheckOutput(output, overwrite);
        string parent = Path.GetDirectoryName(output) ?? throw new ArgumentException($"'{output}' has no parent directory.", nameof(outputDirectory));
        Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, "." + Path.GetFileName(output) + ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temporary);
        try { return new PendingLmdb(output, temporary, overwrite); }
        catch
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }
    }

    /// <summary>Completes the database and moves it into place.</summary>
    public void Commit()
    {
        Writer.Complete();
        Writer.Dispose();
        // LMDB's readers expect a lock file beside the data; an empty one is set up by the first process that opens it.
        File.Create(Path.Combine(temporary, CaffeLmdb.LockFile)).Dispose();
        ImagesToLmdb.Replace(output, temporary, overwrite);
        committed = true;
    }

    public void Dispose()
    {
        Writer.Dispose();
        if (committed) return;
        try { Directory.Delete(temporary, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
