using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using Backprop.Data;

namespace Backprop.Tests.Data;

/// <summary>The cache lookup and the fetcher's verification, with sources faked in memory: nothing here touches the network or npm.</summary>
public class MnistFetcherTests
{
    private static readonly IReadOnlyList<IDatasetSource> NoSources = [];

    private static void WriteSplit(string directory, string prefix, int n, byte[] labels, bool gzipImages = false)
    {
        Directory.CreateDirectory(directory);
        byte[] images = IdxBytes.Images(n);
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-images-idx3-ubyte{(gzipImages ? ".gz" : "")}"), gzipImages ? IdxBytes.Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte"), IdxBytes.Labels(labels));
    }

    [Fact]
    public void LoadsSmallFilesFromTheCache()
    {
        using var data = new ScratchDirectory();
        WriteSplit(Path.Combine(data.Path, "mnist"), "train", 3, [5, 0, 4]);
        WriteSplit(Path.Combine(data.Path, "mnist"), "t10k", 2, [7, 2], gzipImages: true);

        var train = Mnist.Load(MnistSplit.Train, data.Path, sources: NoSources);
        var test = Mnist.Load(MnistSplit.Test, data.Path, sources: NoSources);

        Assert.Equal(new Shape(3, 1, 28, 28), train.Images.Shape);
        Assert.Equal(new byte[] { 5, 0, 4 }, train.Labels);
        Assert.Equal((2 * 31 + 100) % 256, train.Images[2, 0, 100 / 28, 100 % 28]); // raw byte values, unscaled
        Assert.Equal(new Shape(2, 1, 28, 28), test.Images.Shape);
        Assert.Equal(new byte[] { 7, 2 }, test.Labels);
        Assert.EndsWith("t10k-images-idx3-ubyte.gz", Mnist.EnsureFiles(MnistSplit.Test, data.Path, sources: NoSources).ImagesPath);

        var dataset = train.ToDataset();
        Assert.Equal(3, dataset.Count);
        Assert.Equal(new Shape(1, 28, 28), dataset.SampleShape);
        Assert.Equal([5, 0, 4], dataset.Labels);
    }

    [Fact]
    public void DataDirectoryResolvesExplicitPathFirst()
    {
        using var data = new ScratchDirectory();
        Assert.Equal(data.Path, DataDirectory.Resolve(data.Path));
        Assert.False(string.IsNullOrEmpty(DataDirectory.Resolve()));
    }

    [Fact]
    public void MissingFilesWithoutSourcesSayWhatWasTriedAndHowToFixIt()
    {
        using var data = new ScratchDirectory();
        var e = Assert.Throws<DatasetUnavailableException>(() => Mnist.EnsureFiles(MnistSplit.Train, data.Path, sources: NoSources));
        string cache = Path.Combine(data.Path, "mnist");
        Assert.Contains(cache, e.Message);
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("no download sources", e.Message);
        Assert.Contains("by hand", e.Message);
        Assert.Contains("BACKPROP_DATA", e.Message);
    }

    [Fact]
    public void MismatchedSplitIsRejectedOnLoad()
    {
        using var data = new ScratchDirectory();
        WriteSplit(Path.Combine(data.Path, "mnist"), "train", 3, [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(MnistSplit.Train, data.Path, sources: NoSources));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);

        WriteSplit(Path.Combine(data.Path, "mnist"), "train", 2, [1, 12]);
        e = Assert.Throws<InvalidDataException>(() => Mnist.Load(MnistSplit.Train, data.Path, sources: NoSources));
        Assert.Contains("label 12 at index 1", e.Message);
    }

    [Fact]
    public void FashionMnistLooksInCacheThenSystemDirectory()
    {
        using var data = new ScratchDirectory();
        using var system = new ScratchDirectory();
        File.WriteAllBytes(system.File("t10k-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Images(2)));
        File.WriteAllBytes(system.File("t10k-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Labels(9, 2)));

        var files = FashionMnist.EnsureFiles(MnistSplit.Test, data.Path, null, null, [system.Path]);
        Assert.Equal(system.File("t10k-images-idx3-ubyte.gz"), files.ImagesPath);

        WriteSplit(Path.Combine(data.Path, "fashion-mnist"), "t10k", 1, [3]);
        files = FashionMnist.EnsureFiles(MnistSplit.Test, data.Path, null, null, [system.Path]);
        Assert.Equal(Path.Combine(data.Path, "fashion-mnist", "t10k-images-idx3-ubyte"), files.ImagesPath);

        var e = Assert.Throws<DatasetUnavailableException>(() => FashionMnist.EnsureFiles(MnistSplit.Train, data.Path, null, null, [system.Path]));
        Assert.Contains("dataset-fashion-mnist", e.Message);
    }

    // ---- the fetcher with fake sources ----

    private static readonly byte[] TinyImages = IdxBytes.Images(2);
    private static readonly byte[] TinyLabels = IdxBytes.Labels(1, 2);

    private static DatasetFile Spec(string name, byte[] content) =>
        new(name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)));

    private static readonly DatasetFile[] TinyFiles = [Spec("images", TinyImages), Spec("labels", TinyLabels)];

    /// <summary>A source that writes given bytes under given names, then optionally fails.</summary>
    private sealed class FakeSource(string description, Dictionary<string, byte[]> delivers, string? failure = null) : IDatasetSource
    {
        public int Calls;
        public string Description => description;
        public void Fetch(IReadOnlyList<DatasetFile> files, string directory, IProgress<string>? log, CancellationToken cancellationToken)
        {
            Calls++;
            foreach (var (name, bytes) in delivers) File.WriteAllBytes(Path.Combine(directory, name), bytes);
            if (failure is not null) throw new IOException(failure);
        }
    }

    [Fact]
    public void FetchedFilesAreVerifiedAndInstalledDecompressed()
    {
        using var cache = new ScratchDirectory();
        var source = new FakeSource("fake", new() { ["images.gz"] = IdxBytes.Gzip(TinyImages), ["labels"] = TinyLabels });
        var log = new List<string>();
        var fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles, [source]);

        string[] paths = fetcher.EnsureFiles(["images", "labels"], new ListLog(log));

        Assert.Equal([cache.File("images"), cache.File("labels")], paths);
        Assert.Equal(TinyImages, File.ReadAllBytes(paths[0]));
        Assert.Equal(TinyLabels, File.ReadAllBytes(paths[1]));
        Assert.Contains(log, l => l.Contains("images verified"));
        Assert.Equal(["images", "labels"], Directory.GetFileSystemEntries(cache.Path).Select(Path.GetFileName).Order());
        // Now cached: the source is not asked again.
        fetcher.EnsureFiles(["images", "labels"]);
        Assert.Equal(1, source.Calls);
    }

    [Fact]
    public void BadDeliveriesAreRejectedAndTheNextSourceIsTried()
    {
        using var cache = new ScratchDirectory();
        byte[] tampered = (byte[])TinyImages.Clone();
        tampered[^1] ^= 1;
        var wrongChecksum = new FakeSource("tampered", new() { ["images"] = tampered, ["labels"] = TinyLabels });
        var truncated = new FakeSource("truncated", new() { ["images"] = TinyImages[..^5] });
        var failing = new FakeSource("offline", [], failure: "no route to host");
        var good = new FakeSource("good", new() { ["images"] = TinyImages });
        var fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles, [wrongChecksum, truncated, failing, good]);

        string[] paths = fetcher.EnsureFiles(["images", "labels"]);

        Assert.Equal(TinyImages, File.ReadAllBytes(paths[0]));
        Assert.Equal(TinyLabels, File.ReadAllBytes(paths[1])); // the labels from the first source verified and were kept
        Assert.Equal(1, good.Calls);
        Assert.False(File.Exists(cache.File("images.verified")));
    }

    [Fact]
    public void WhenEverySourceFailsTheErrorListsEachReason()
    {
        using var cache = new ScratchDirectory();
        byte[] tampered = (byte[])TinyImages.Clone();
        tampered[20] ^= 1;
        var fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles,
        [
            new FakeSource("tampered", new() { ["images"] = tampered }),
            new FakeSource("too long", new() { ["images"] = [.. TinyImages, 0] }),
            new FakeSource("offline", [], failure: "no route to host"),
            new FakeSource("not idx", new() { ["images"] = [1, 2, 3] }),
        ], manualHint: "ask a friend.");

        var e = Assert.Throws<DatasetUnavailableException>(() => fetcher.EnsureFiles(["images"]));

        Assert.Equal(5, e.Attempts.Count); // the cache, then four sources
        Assert.Contains("tampered: images has SHA-256", e.Message);
        Assert.Contains("too long: images from images is longer than the expected", e.Message);
        Assert.Contains("offline: no route to host", e.Message);
        Assert.Contains("not idx: images has 3 bytes", e.Message);
        Assert.Contains("ask a friend.", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(cache.Path));
    }

    [Fact]
    public void CorruptCachedFileIsReportedAndReplaced()
    {
        using var cache = new ScratchDirectory();
        cache.Write("images", [0x42, 0, 8, 1]);
        var fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles, []);
        var e = Assert.Throws<DatasetUnavailableException>(() => fetcher.EnsureFiles(["images"]));
        Assert.Contains("present but unusable", e.Message);
        Assert.Contains("magic number", e.Message);

        fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles, [new FakeSource("good", new() { ["images"] = TinyImages })]);
        Assert.Equal(TinyImages, File.ReadAllBytes(fetcher.EnsureFiles(["images"])[0]));
    }

    [Fact]
    public void NpmTarballExtractionTakesOnlyTheWantedFiles()
    {
        using var dir = new ScratchDirectory();
        string tgz = dir.File("pkg.tgz");
        using (var file = File.Create(tgz))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            void Add(string name, byte[] content) =>
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            Add("package/package.json", "{}"u8.ToArray());
            Add("package/data/images", TinyImages);
            Add("package/other/labels", [9, 9, 9]); // the right name in the wrong folder
            Add("package/data/labels", TinyLabels);
        }
        string output = Directory.CreateDirectory(dir.File("out")).FullName;
        new NpmPackageSource("fake@1.0.0", "package/data", TimeSpan.FromSeconds(1)).Extract(tgz, TinyFiles, output);

        Assert.Equal(TinyImages, File.ReadAllBytes(Path.Combine(output, "images")));
        Assert.Equal(TinyLabels, File.ReadAllBytes(Path.Combine(output, "labels")));
        Assert.Equal(2, Directory.GetFiles(output).Length);
    }

    /// <summary>Serves fixed responses by URL, as a web mirror would.</summary>
    private sealed class FakeHandler(Dictionary<string, byte[]> files) : HttpMessageHandler
    {
        public List<string> Requested { get; } = [];
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string url = request.RequestUri!.AbsoluteUri;
            Requested.Add(url);
            return files.TryGetValue(url, out var body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
        }
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }

    [Fact]
    public void HttpMirrorDownloadsGzippedFiles()
    {
        using var cache = new ScratchDirectory();
        using var handler = new FakeHandler(new() { ["https://mirror.invalid/mnist/images.gz"] = IdxBytes.Gzip(TinyImages) });
        var mirror = new HttpMirrorSource(new Uri("https://mirror.invalid/mnist"), TimeSpan.FromSeconds(5), handler);
        var fetcher = new DatasetFetcher("Tiny", cache.Path, TinyFiles, [mirror]);

        Assert.Equal(TinyImages, File.ReadAllBytes(fetcher.EnsureFiles(["images"])[0]));
        var e = Assert.Throws<DatasetUnavailableException>(() => fetcher.EnsureFiles(["labels"]));
        Assert.Contains("https://mirror.invalid/mnist/: labels.gz: HTTP 404", e.Message);
    }

    private sealed class ListLog(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
