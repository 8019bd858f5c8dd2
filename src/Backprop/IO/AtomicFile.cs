namespace Backprop.IO;

/// <summary>
/// Writes a file so that it is never seen half-written: the content goes to <c>path + ".tmp"</c>, is flushed
/// to disk, and the temporary file is renamed over <paramref name="path"/>. On failure the temporary file is
/// deleted and any existing file at the path is left as it was.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); }
            catch (IOException) { } // the original error is the one worth reporting
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
