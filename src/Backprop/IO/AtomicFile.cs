using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Backprop.IO;

/// <summary>
/// Writes a file so that it is never seen half-written: the content goes to a temporary file in the same
/// directory, is flushed to disk, and the temporary file is renamed over the path. On failure the temporary
/// file is deleted and any existing file at the path is left as it was.
/// </summary>
/// <remarks>
/// The temporary file is named <c>.{name}.{random}.tmp</c> (12 random characters) and created exclusively
/// (O_CREAT|O_EXCL): it never opens a file or symbolic link that already exists, so a link planted at a
/// guessable name cannot redirect the write. The rename replaces a link at the final path itself, not its target.
/// Use <see cref="Begin"/> to write several files and rename them only when all are complete.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Characters of the random part of a temporary name.</summary>
    public const int RandomLength = 12;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Writes <paramref name="path"/> through a temporary file renamed into place.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var pending = Begin(path);
        write(pending.Stream);
        pending.Commit();
    }

    /// <summary>
    /// Creates the temporary file for <paramref name="path"/> and returns it open for writing; nothing appears at
    /// <paramref name="path"/> until <see cref="PendingFile.Commit"/>. Disposing it uncommitted deletes the temporary file.
    /// </summary>
    public static PendingFile Begin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        if (name.Length == 0) throw new ArgumentException($"{path}: not a file name.", nameof(path));
        for (int attempt = 0; ; attempt++)
        {
            string temporary = Path.Combine(directory, TemporaryName(name));
            try
            {
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                return new PendingFile(path, temporary, stream);
            }
            catch (IOException) when (attempt < 3 && Taken(temporary))
            {
                // A name taken by chance (or by someone guessing): draw another.
            }
        }
    }

    /// <summary>
    /// Checks that files can be created in <paramref name="directory"/> by creating and deleting an exclusive
    /// temporary file there; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when not.
    /// </summary>
    public static void ProbeWritable(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string probe = Path.Combine(directory, TemporaryName("probe"));
        using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
    }

    /// <summary>A fresh temporary name for <paramref name="fileName"/>: <c>.{fileName}.{random}.tmp</c>.</summary>
    public static string TemporaryName(string fileName) => $".{fileName}.{RandomPart()}.tmp";

    /// <summary>
    /// True when <paramref name="candidate"/> (a file name without directory) is a temporary name that <see cref="Begin"/>
    /// made for a file whose name <paramref name="finalName"/> matches: <paramref name="finalName"/> is a regular
    /// expression for the final file name, anchored by this method.
    /// </summary>
    public static bool IsTemporaryNameOf(string candidate, string finalName)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(finalName);
        return Regex.IsMatch(candidate, $@"^\.(?:{finalName})\.[a-z0-9]{{{RandomLength}}}\.tmp$", RegexOptions.CultureInvariant);
    }

    private static string RandomPart() => RandomNumberGenerator.GetString(Alphabet, RandomLength);

    // File.Exists follows links, so a dangling link needs its own look.
    private static bool Taken(string path)
    {
        if (File.Exists(path) || Directory.Exists(path)) return true;
        try { return new FileInfo(path).LinkTarget is not null; }
        catch (IOException) { return false; }
    }
}
