namespace Backprop.IO;

/// <summary>
/// A file being written through a temporary file (see <see cref="AtomicFile.Begin"/>): write to <see cref="Stream"/>,
/// then <see cref="Complete"/> (flush to disk and close) and <see cref="Commit"/> (rename into place). Disposing it
/// before the commit deletes the temporary file, so a failure leaves nothing new behind.
/// </summary>
public sealed class PendingFile : IDisposable
{
    private FileStream? stream;
    private bool done;   // committed or discarded

    internal PendingFile(string path, string temporaryPath, FileStream stream)
    {
        Path = path;
        TemporaryPath = temporaryPath;
        this.stream = stream;
    }

    /// <summary>Where the file appears on <see cref="Commit"/>.</summary>
    public string Path { get; }

    /// <summary>The temporary file being written.</summary>
    public string TemporaryPath { get; }

    /// <summary>The temporary file's stream (closed after <see cref="Complete"/>).</summary>
    public Stream Stream => stream ?? throw new ObjectDisposedException(nameof(PendingFile), $"{Path}: the temporary file is already complete.");

    /// <summary>Flushes the content to disk and closes the temporary file; a full disk fails here, before any rename.</summary>
    public void Complete()
    {
        if (stream is null) return;
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        stream = null;
    }

    /// <summary>Completes the file if needed and renames it over <see cref="Path"/> (replacing a file or link there, never writing through it).</summary>
    public void Commit()
    {
        if (done) throw new InvalidOperationException($"{Path}: already committed or discarded.");
        Complete();
        File.Move(TemporaryPath, Path, overwrite: true);
        done = true;
    }

    /// <summary>Deletes the temporary file unless it was committed.</summary>
    public void Dispose()
    {
        stream?.Dispose();
        stream = null;
        if (done) return;
        done = true;
        try { File.Delete(TemporaryPath); }
        catch (IOException) { } // the error that brought us here is the one worth reporting
        catch (UnauthorizedAccessException) { }
    }
}
