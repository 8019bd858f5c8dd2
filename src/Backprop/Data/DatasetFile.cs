namespace Backprop.Data;

/// <summary>A file of a dataset as it is cached: its name and the length and SHA-256 of its uncompressed content.</summary>
/// <param name="Name">The file name in the cache directory, without <c>.gz</c> (e.g. <c>train-images-idx3-ubyte</c>).</param>
/// <param name="Length">The uncompressed length in bytes.</param>
/// <param name="Sha256">The SHA-256 of the uncompressed content, lowercase hex; null when unknown.</param>
public sealed record DatasetFile(string Name, long Length, string? Sha256);
