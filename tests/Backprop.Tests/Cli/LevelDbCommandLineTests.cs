using Backprop.Caffe;
using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using Backprop.Vision;

namespace Backprop.Tests.Cli;

/// <summary>The data commands with <c>--backend leveldb</c>, run as the real process: what they write, the Data layer reads back exactly.</summary>
public sealed class LevelDbCommandLineTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>An IDX pair of <paramref name="labels"/>.Length images of 2x3 pixels, image k's bytes 7 (6k + i) mod 256 (all distinct).</summary>
    private (string Images, string Labels) WriteIdx(string folder, string images, string labelFile, params byte[] labels)
    {
        Directory.CreateDirectory(dir.File(folder));
        string imagesPath = dir.File(Path.Combine(folder, images)), labelsPath = dir.File(Path.Combine(folder, labelFile));
        byte n = (byte)labels.Length;
        File.WriteAllBytes(imagesPath, [0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 2, 0, 0, 0, 3, .. Enumerable.Range(0, n * 6).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(labelsPath, [0, 0, 8, 1, 0, 0, 0, n, .. labels]);
        return (imagesPath, labelsPath);
    }

    private static byte[] Image(int k) => [.. Enumerable.Range(6 * k, 6).Select(i => (byte)(i * 7))];

    /// <summary>One batch of <paramref name="batch"/> from the Data layer over the LevelDB at <paramref name="source"/>.</summary>
    private static (float[] Data, float[] Labels, Shape Shape) ReadBack(string source, int batch)
    {
        var net = NetBuilderTests.Build($$"""
            layer { name: "data" type: "Data" top: "data" top: "label"
              data_param { source: "{{source}}" backend: LEVELDB batch_size: {{batch}} } }
            """, Phase.Test);
        var blobs = net.Forward(new NetContext(Phase.Test, 1)).Blobs;
        return (blobs["data"].ToArray(), blobs["label"].ToArray(), blobs["data"].Shape);
    }

    private static int Run(out string output, params string[] arguments)
    {
        using var run = new CliProcess(arguments);
        int code = run.WaitForExit();
        output = run.Output;
        return code;
    }

    [Fact]
    public void ConvertMnistPairFormWritesALevelDbTheDataLayerReads()
    {
        var (images, labels) = WriteIdx("idx", "images-idx3-ubyte", "labels-idx1-ubyte", 4, 9, 2);
        string db = dir.File("mnist_leveldb");
        Assert.Equal(0, Run(out string output, "convert-mnist", images, labels, db, "-backend", "leveldb"));
        Assert.Contains($"Wrote 3 records to {db}", output);
        var (data, label, shape) = ReadBack(db, 3);
        Assert.Equal(new Shape(3, 1, 2, 3), shape);
        Assert.Equal(Enumerable.Range(0, 18).Select(i => (float)(byte)(i * 7)), data);
        Assert.Equal([4f, 9f, 2f], label);
        Assert.False(Directory.Exists(dir.File("mnist_lmdb")));
    }

    [Fact]
    public void ConvertMnistFetchFormWritesCaffesLevelDbNamesAndKeepsThemAfter()
    {
        // A cached "MNIST" (the fetcher takes cached files whose IDX header is valid): nothing is downloaded.
        WriteIdx("data/mnist", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 1, 2, 3);
        WriteIdx("data/mnist", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 7, 8);
        string[] arguments = ["convert-mnist", "--backend", "leveldb", "--output", dir.File("out"), "--data-dir", dir.File("data")];
        Assert.Equal(0, Run(out string output, arguments));
        Assert.Equal(["mnist_test_leveldb", "mnist_train_leveldb"], Directory.GetDirectories(dir.File("out")).Select(Path.GetFileName).Order());
        Assert.Equal([1f, 2f, 3f], ReadBack(dir.File("out/mnist_train_leveldb"), 3).Labels);
        var test = ReadBack(dir.File("out/mnist_test_leveldb"), 2);
        Assert.Equal([7f, 8f], test.Labels);
        Assert.Equal(Image(0).Concat(Image(1)).Select(b => (float)b), test.Data);

        Assert.Equal(0, Run(out output, arguments));
        Assert.Contains("mnist_train_leveldb exists; keeping it", output);
        Assert.Contains("mnist_test_leveldb exists; keeping it", output);
    }

    [Fact]
    public void ConvertImagesetWritesTheLmdbsRecordsToALevelDb()
    {
        Directory.CreateDirectory(dir.File("img"));
        var lines = new List<string>();
        for (int k = 0; k < 3; k++)
        {
            var image = new Image(3, 2, 4);
            for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (k * 31 + i * 9) % 256;
            File.WriteAllBytes(dir.File($"img/{k}.png"), ImageEncoding.Encode(image, "png"));
            lines.Add($"img/{k}.png {k + 5}");
        }
        File.WriteAllLines(dir.File("list.txt"), lines);
        string leveldb = dir.File("set_leveldb"), lmdb = dir.File("set_lmdb");
        Assert.Equal(0, Run(out string output, "convert-imageset", dir.Path + "/", dir.File("list.txt"), leveldb, "-backend", "leveldb", "-shuffle"));
        Assert.Contains($"Wrote 3 records to {leveldb}", output);
        Assert.Equal(0, Run(out _, "convert-imageset", dir.Path + "/", dir.File("list.txt"), lmdb, "-shuffle"));

        using (var levelDbReader = new LevelDbDatumReader(leveldb))
        using (var lmdbReader = new LmdbDatumReader(lmdb))
            Assert.Equal(lmdbReader.Records().Select(r => (r.Key, r.Datum)), levelDbReader.Records().Select(r => (r.Key, r.Datum)));
        var (data, labels, shape) = ReadBack(leveldb, 3);
        Assert.Equal(new Shape(3, 3, 2, 4), shape);
        // Shuffled with the default seed: each record is one of the images, under its own label.
        for (int n = 0; n < 3; n++)
        {
            int k = (int)labels[n] - 5;
            Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)((k * 31 + i * 9) % 256)), data.AsSpan(n * 24, 24).ToArray());
        }
        Assert.Equal([5f, 6f, 7f], labels.Order());
    }

    [Fact]
    public void ComputeImageMeanReadsALevelDb()
    {
        var (images, labels) = WriteIdx("idx", "images", "labels", 0, 1);
        string db = dir.File("db");
        MnistToLevelDb.Convert(images, labels, db);
        string mean = dir.File("mean.binaryproto");
        Assert.Equal(0, Run(out string output, "compute-image-mean", db, mean, "-backend", "leveldb"));
        // Pixel i of image k is 7 (6k + i): the means of (7i, 7(6 + i)) are 7i + 21.
        Assert.Equal(Enumerable.Range(0, 6).Select(i => 7f * i + 21), Backprop.Caffe.Layers.MeanImage.Load(mean).Values);
        Assert.Contains("mean_value channel [0]: 38.5", output);

        // The same folder read as an LMDB is a clear error, not a crash.
        Assert.Equal(1, Run(out output, "compute-image-mean", db));
        Assert.Contains("error: ", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void ConvertMnistSiameseWritesLabelledTwoChannelPairs()
    {
        byte[] digits = [3, 5, 3, 5, 3, 1, 5, 3];
        var (images, labels) = WriteIdx("idx", "images", "labels", digits);
        string db = dir.File("mnist_siamese_train_leveldb");
        Assert.Equal(0, Run(out string output, "convert-mnist-siamese", images, labels, db, "--seed", "11"));
        Assert.Contains($"Wrote 8 pairs to {db}", output);

        using (var reader = new LevelDbDatumReader(db))
            Assert.Equal(Enumerable.Range(0, 8).Select(MnistToLmdb.Key), reader.Records().Select(r => r.Key));
        var (data, pairLabels, shape) = ReadBack(db, 8);
        Assert.Equal(new Shape(8, 2, 2, 3), shape);
        var imageOf = Enumerable.Range(0, digits.Length).ToDictionary(k => string.Join(",", Image(k)), k => k);
        for (int n = 0; n < 8; n++)
        {
            int i = imageOf[string.Join(",", data.AsSpan(n * 12, 6).ToArray().Select(v => (byte)v))];
            int j = imageOf[string.Join(",", data.AsSpan(n * 12 + 6, 6).ToArray().Select(v => (byte)v))];
            Assert.Equal(digits[i] == digits[j] ? 1f : 0f, pairLabels[n]);
        }

        Assert.Equal(0, Run(out output, "convert-mnist-siamese", "--help"));
        Assert.Contains("not Caffe's", output);
    }
}
