using System.IO.Compression;
using System.Security.Cryptography;

namespace Backprop.Data;

/// <summary>
/// Makes a dataset's files present in its cache directory: each file is looked up in the cache (plain or
/// <c>.gz</c>), then in read-only search directories, and whatever is still missing is fetched from the
/// sources in order until every file is there.
/// </summary>
/// <remarks>
/// Files already in the cache or a search directory are trusted as far as their IDX header goes (they may be
/// small stand-ins put there on purpose); the loaders check their shapes. Fetched files are verified before
/// they enter the cache: the uncompressed length, the SHA-256 when known, and the IDX header. They are
/// decompressed into a scratch directory inside the cache directory and renamed into place, so the cache never
/// holds a half-written file.
/// </remarks>
public sealed class DatasetFetcher
{
    private readonly Dictionary<string, DatasetFile> files;

    /// <param name="datasetName">The dataset's name in messages (e.g. <c>MNIST</c>).</param>
    /// <param name="cacheDirectory">Where files are kept (e.g. <c>~/.backprop/data/mnist</c>).</param>
    /// <param name="files">Every file of the dataset, with the length and checksum fetched copies must have.</param>
    /// <param name="sources">Where to fetch missing files from, in order; empty to use only the cache.</param>
    /// <param name="searchDirectories">Read-only directories checked after the cache (e.g. a system package's).</param>
    /// <param name="manualHint">A sentence on where to get the files by hand, appended to the error.</param>
    public DatasetFetcher(string datasetName, string cacheDirectory, IReadOnlyList<DatasetFile> files,
        IReadOnlyList<IDatasetSource> sources, IReadOnlyList<string>? searchDirectories = null, string? manualHint = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(datasetName);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(sources);
        DatasetName = datasetName;
        CacheDirectory = Path.GetFullPath(cacheDirectory);
        this.files = files.ToDictionary(f => f.Name);
        Sources = sources;
        SearchDirectories = searchDirectories ?? [];
        ManualHint = manualHint;
    }

    public string DatasetName { get; }
    public string CacheDirectory { get; }
    public IReadOnlyList<IDatasetSource> Sources { get; }
    public IReadOnlyList<string> SearchDirectories { get; }
    public string? ManualHint { get; }

    /// <summary>
    /// Returns the path of each named file (in the cache or a search directory), fetching the missing ones.
    /// Throws <see cref="DatasetUnavailableException"/> when some cannot be found or fetched.
    /// </summary>
    public string[] EnsureFiles(IReadOnlyList<string> names, IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (string name in names)
            if (!files.ContainsKey(name))
                throw new ArgumentException($"'{name}' is not a file of {DatasetName}; its files are {string.Join(", ", files.Keys)}.", nameof(names));

        var attempts = new List<string>();
        var paths = new string?[names.Count];
        for (int i = 0; i < names.Count; i++) paths[i] = FindLocal(names[i], attempts);
        if (paths.All(p => p is not null)) return paths!;

        if (Sources.Count == 0) attempts.Add("no download sources were configured");
        foreach (var source in Sources)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var missing = names.Where((_, i) => paths[i] is null).Select(n => files[n]).ToList();
            // Fetch every file of the dataset that is not cached yet: a source that delivers them all (a package)
            // then needs to run only once.
            var wanted = files.Values.Where(f => missing.Contains(f) || !IsCached(f.Name)).ToList();
            log?.Report($"{DatasetName}: fetching {string.Join(", ", missing.Select(f => f.Name))} from {source.Description}");
            string failure = FetchFrom(source, wanted, log, cancellationToken);
            for (int i = 0; i < names.Count; i++) paths[i] ??= FindInCache(names[i]);
            if (paths.All(p => p is not null))
            {
                log?.Report($"{DatasetName}: files are in '{CacheDirectory}'");
                return paths!;
            }
            attempts.Add($"{source.Description}: {failure}");
        }

        var stillMissing = names.Where((_, i) => paths[i] is null).ToList();
        throw new DatasetUnavailableException(
            $"{DatasetName} is not available: {string.Join(", ", stillMissing)} {(stillMissing.Count == 1 ? "is" : "are")} not in '{CacheDirectory}' and could not be fetched. Tried:" +
            string.Concat(attempts.Select(a => Environment.NewLine + "  - " + a)) + Environment.NewLine +
            $"To install the files by hand, put {string.Join(", ", files.Keys)} (uncompressed, or gzipped with a .gz suffix) in '{CacheDirectory}'" +
            (ManualHint is null ? "." : "; " + ManualHint) +
            $" The data directory is set by the {DataDirectory.EnvironmentVariable} environment variable (default ~/.backprop/data).",
            attempts);
    }

    /// <summary>The file in the cache, then in the search directories, when its IDX header is valid.</summary>
    private string? FindLocal(string name, List<string> attempts)
    {
        foreach (string directory in SearchDirectories.Prepend(CacheDirectory))
        {
            foreach (string candidate in new[] { Path.Combine(directory, name), Path.Combine(directory, name + ".gz") })
            {
                if (!File.Exists(candidate)) continue;
                try
                {
                    IdxFile.ReadHeader(candidate);
                    return candidate;
                }
                catch (InvalidDataException e)
                {
                    attempts.Add($"'{candidate}' is present but unusable: {e.Message}");
                }
            }
        }
        attempts.Add($"{name} is in none of {string.Join(", ", SearchDirectories.Prepend(CacheDirectory).Select(d => $"'{d}'"))}");
        return null;
    }

    private bool IsCached(string name) =>
        File.Exists(Path.Combine(CacheDirectory, name)) || File.Exists(Path.Combine(CacheDirectory, name + ".gz"));

    /// <summary>The plain file in the cache (what <see cref="Install"/> writes).</summary>
    private string? FindInCache(string name)
    {
        string path = Path.Combine(CacheDirectory, name);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Runs one source in a scratch directory and installs whatever it delivered that verifies; returns why it fell short.</summary>
    private string FetchFrom(IDatasetSource source, List<DatasetFile> wanted, IProgress<string>? log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(CacheDirectory);
        string scratch = Path.Combine(CacheDirectory, ".fetch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        var problems = new List<string>();
        try
        {
            try
            {
                source.Fetch(wanted, scratch, log, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                problems.Add(e.Message);
            }
            foreach (var file in wanted)
            {
                string? delivered = new[] { file.Name, file.Name + ".gz" }.Select(n => Path.Combine(scratch, n)).FirstOrDefault(File.Exists);
                if (delivered is null) continue;
                try
                {
                    Install(file, delivered, scratch);
                    log?.Report($"{DatasetName}: {file.Name} verified ({file.Length} bytes{(file.Sha256 is null ? "" : ", SHA-256 " + file.Sha256)})");
                }
                catch (InvalidDataException e)
                {
                    problems.Add(e.Message);
                }
            }
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return problems.Count == 0 ? "it did not deliver the files" : string.Join("; ", problems);
    }

    /// <summary>Decompresses (when gzipped) and verifies a delivered file, then renames it into the cache.</summary>
    private void Install(DatasetFile file, string delivered, string scratch)
    {
        string verified = Path.Combine(scratch, file.Name + ".verified");
        using (var input = new FileStream(delivered, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            Span<byte> magic = stackalloc byte[2];
            bool gzip = input.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            input.Position = 0;
            using Stream content = gzip ? new GZipStream(input, CompressionMode.Decompress) : input;
            using var output = new FileStream(verified, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long length = 0;
            try
            {
                while (true)
                {
                    int n = content.Read(buffer, 0, buffer.Length);
                    if (n == 0) break;
                    length += n;
                    if (length > file.Length)
                        throw new InvalidDataException($"{file.Name} from {Path.GetFileName(delivered)} is longer than the expected {file.Length} bytes");
                    hash.AppendData(buffer, 0, n);
                    output.Write(buffer, 0, n);
                }
            }
            catch (InvalidDataException e) when (gzip && !e.Message.StartsWith(file.Name, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{file.Name}: the downloaded gzip data is corrupt ({e.Message})", e);
            }
            if (length != file.Length)
                throw new InvalidDataException($"{file.Name} has {length} bytes, not the expected {file.Length} (truncated download?)");
            string sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (file.Sha256 is not null && sha != file.Sha256)
                throw new InvalidDataException($"{file.Name} has SHA-256 {sha}, not the expected {file.Sha256}");
            output.Flush(flushToDisk: true);
        }
        IdxFile.ReadHeader(verified);
        File.Move(verified, Path.Combine(CacheDirectory, file.Name), overwrite: true);
    }
}
