using System.Globalization;
using System.Runtime.InteropServices;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Lets go of the pages of a memory-mapped file that this process has read, so a one-pass read of a large
/// database (the Data layer copies every record once) does not keep the whole file resident on top of the
/// copy: the pages stay in the OS's file cache, and a later read maps them back in. Linux only (it reads
/// /proc/self/maps and calls madvise); elsewhere, or if anything fails, it does nothing.
/// </summary>
internal static partial class MappedPages
{
    private const int MadviseDontNeed = 4;

    /// <summary>Drops this process's mapping pages of <paramref name="file"/> (read-only file mappings only).</summary>
    public static void Release(string file)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            string path = Path.GetFullPath(file);
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                // start-end perms offset dev inode path
                if (!line.EndsWith(path, StringComparison.Ordinal)) continue;
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[1].Contains('w')) continue;   // never a writable mapping
                var range = fields[0].Split('-');
                ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _ = Madvise((nint)start, (nuint)(end - start), MadviseDontNeed);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException
                                       or DllNotFoundException or EntryPointNotFoundException)
        {
            // Only memory is at stake: carry on with the pages resident.
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
