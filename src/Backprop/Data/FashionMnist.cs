namespace Backprop.Data;

/// <summary>
/// Zalando's Fashion-MNIST: 28x28 grayscale pictures of clothing in 10 classes, in MNIST's file format and
/// names. Files are looked up in <c>&lt;data&gt;/fashion-mnist/</c> (see <see cref="DataDirectory"/>), then in
/// <see cref="SystemDirectory"/>, where Debian's package <c>dataset-fashion-mnist</c> installs them gzipped.
/// Nothing is downloaded unless sources are passed.
/// </summary>
public static class FashionMnist
{
    /// <summary>The cache subdirectory of the data directory.</summary>
    public const string DirectoryName = "fashion-mnist";

    /// <summary>Where <c>apt-get install dataset-fashion-mnist</c> puts the gzipped files.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The four files, uncompressed, with their lengths and SHA-256 checksums.</summary>
    public static IReadOnlyList<DatasetFile> Files { get; } =
    [
        new("train-images-idx3-ubyte", 47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        new("train-labels-idx1-ubyte", 60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        new("t10k-images-idx3-ubyte", 7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        new("t10k-labels-idx1-ubyte", 10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ];

    /// <summary>Finds the split's two files (cache, then <see cref="SystemDirectory"/>) and returns their paths.</summary>
    /// <param name="sources">Where to fetch missing files from; null or empty to only look.</param>
    /// <exception cref="DatasetUnavailableException">The files are in neither place.</exception>
    public static MnistFiles EnsureFiles(MnistSplit split, string? dataDirectory = null, IProgress<string>? log = null,
        IReadOnlyList<IDatasetSource>? sources = null) =>
        EnsureFiles(split, dataDirectory, log, sources, [SystemDirectory]);

    /// <summary>Loads a split: images (N, 1, 28, 28) holding the raw values 0-255 as floats, and labels 0-9.</summary>
    public static LabeledImages Load(MnistSplit split, string? dataDirectory = null, IProgress<string>? log = null,
        IReadOnlyList<IDatasetSource>? sources = null) =>
        MnistFormat.Load(EnsureFiles(split, dataDirectory, log, sources));

    internal static MnistFiles EnsureFiles(MnistSplit split, string? dataDirectory, IProgress<string>? log,
        IReadOnlyList<IDatasetSource>? sources, IReadOnlyList<string> searchDirectories) =>
        MnistFormat.EnsureFiles(
            new DatasetFetcher("Fashion-MNIST", Path.Combine(DataDirectory.Resolve(dataDirectory), DirectoryName), Files, sources ?? [],
                searchDirectories, manualHint: $"on Debian or Ubuntu, 'apt-get install dataset-fashion-mnist' puts them in '{SystemDirectory}'."),
            split, log);
}
