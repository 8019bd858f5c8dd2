using Backprop.Caffe;
using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using Google.Protobuf;

namespace Backprop.Tests.Caffe.LevelDb;

/// <summary>The Data layer over a LevelDB written by <see cref="ImagesToLevelDb"/>, held against the same records in an LMDB.</summary>
public sealed class LevelDbDataLayerTests : IDisposable
{
    private const int N = 7, C = 2, H = 3, W = 4;
    private readonly TempDirectory dir = new();
    private readonly byte[] pixels = new byte[N * C * H * W];
    private readonly byte[] labels = new byte[N];

    public LevelDbDataLayerTests()
    {
        var random = new Random(15);
        random.NextBytes(pixels);
        random.NextBytes(labels);
    }

    public void Dispose() => dir.Dispose();

    private CaffeNet DataNet(string source, string backend, int batch = 3, string transform = "") => NetBuilderTests.Build($$"""
        layer { name: "data" type: "Data" top: "data" top: "label"
          transform_param { {{transform}} }
          data_param { source: "{{source}}" backend: {{backend}} batch_size: {{batch}} } }
        """, Phase.Test);

    private static (float[] Data, float[] Labels) Next(CaffeNet net)
    {
        var result = net.Forward(new NetContext(Phase.Test, 1));
        return (result.Blobs["data"].ToArray(), result.Blobs["label"].ToArray());
    }

    [Fact]
    public void TheDataLayerReadsTheLevelDbRecordForRecordAsTheLmdbCyclingInKeyOrder()
    {
        string leveldb = dir.File("train_leveldb"), lmdb = dir.File("train_lmdb");
        Assert.Equal(N, ImagesToLevelDb.Write(pixels, labels, C, H, W, leveldb));
        ImagesToLmdb.Write(pixels, labels, C, H, W, lmdb);
        var fromLevelDb = DataNet(leveldb, "LEVELDB");
        var fromLmdb = DataNet(lmdb, "LMDB");
        Assert.Equal(new Shape(3, C, H, W), fromLevelDb.BlobShapes["data"]);
        int size = C * H * W;
        for (int batch = 0; batch < 4; batch++)   // 12 samples of 7: wraps around once
        {
            var (data, label) = Next(fromLevelDb);
            var (lmdbData, lmdbLabel) = Next(fromLmdb);
            Assert.Equal(lmdbData, data);
            Assert.Equal(lmdbLabel, label);
            for (int n = 0; n < 3; n++)
            {
                int record = (batch * 3 + n) % N;
                Assert.Equal(labels[record], label[n]);
                Assert.Equal(pixels.AsSpan(record * size, size).ToArray().Select(b => (float)b), data.AsSpan(n * size, size).ToArray());
            }
        }
    }

    [Fact]
    public void TheTransformParamAppliesAsForLmdb()
    {
        string leveldb = dir.File("db"), lmdb = dir.File("lmdb");
        ImagesToLevelDb.Write(pixels, labels, C, H, W, leveldb, compress: false);
        ImagesToLmdb.Write(pixels, labels, C, H, W, lmdb);
        const string transform = "scale: 0.5 mean_value: 10 mean_value: 20 crop_size: 2";
        Assert.Equal(Next(DataNet(lmdb, "LMDB", 2, transform)).Data, Next(DataNet(leveldb, "LEVELDB", 2, transform)).Data);
    }

    [Fact]
    public void TheReaderGivesRecordsInKeyByteOrderWhateverTheWriteOrder()
    {
        string path = dir.File("unordered");
        string[] keys = ["00000002", "00000010", "00000000", "00000001_b.png", "00000001_a.png"];
        using (var writer = new LevelDbWriter(path))
        {
            foreach (var (key, i) in keys.Select((k, i) => (k, i)))
                writer.Add(System.Text.Encoding.ASCII.GetBytes(key), MnistToLmdb.MakeDatum([(byte)i], 1, 1, i).ToByteArray());
            writer.Complete();
        }
        using var reader = new LevelDbDatumReader(path);
        Assert.Equal(5, reader.Count);
        Assert.Equal(keys.Order(StringComparer.Ordinal), reader.Records().Select(r => r.Key));
        Assert.Equal([2, 4, 3, 0, 1], reader.Records().Select(r => r.Datum.Label));

        using var cursor = reader.CreateCursor();
        for (int i = 0; i < 12; i++) Assert.Equal(keys.Order(StringComparer.Ordinal).ElementAt(i % 5), cursor.Next().Key);
        Assert.Equal(2, cursor.Wraps);
    }

    [Fact]
    public void MnistConvertsToTheSameRecordsAsTheLmdbConverter()
    {
        string images = dir.File("images.idx"), labelFile = dir.File("labels.idx");
        const int count = 5, rows = 3, cols = 2;
        File.WriteAllBytes(images, [0, 0, 8, 3, 0, 0, 0, count, 0, 0, 0, rows, 0, 0, 0, cols, .. pixels.AsSpan(0, count * rows * cols)]);
        File.WriteAllBytes(labelFile, [0, 0, 8, 1, 0, 0, 0, count, .. labels.AsSpan(0, count)]);
        Assert.Equal(count, MnistToLevelDb.Convert(images, labelFile, dir.File("mnist_leveldb")));
        MnistToLmdb.Convert(images, labelFile, dir.File("mnist_lmdb"));
        using var levelDb = new LevelDbDatumReader(dir.File("mnist_leveldb"));
        using var lmdb = new LmdbDatumReader(dir.File("mnist_lmdb"));
        Assert.Equal(lmdb.Records().Select(r => (r.Key, r.Datum)), levelDb.Records().Select(r => (r.Key, r.Datum)));
    }

    [Fact]
    public void AnExistingOutputIsReplacedOnlyWithOverwriteAndOnlyWhenItIsALevelDb()
    {
        string path = dir.File("out");
        ImagesToLevelDb.Write(pixels, labels, C, H, W, path);
        var refused = Assert.Throws<IOException>(() => ImagesToLevelDb.Write(pixels, labels, C, H, W, path));
        Assert.Contains(path, refused.Message);
        Assert.Equal(2, ImagesToLevelDb.Write(pixels.AsSpan(0, 2 * C * H * W), labels.AsSpan(0, 2), C, H, W, path, overwrite: true));
        using (var reader = new LevelDbDatumReader(path)) Assert.Equal(2, reader.Count);

        string other = dir.File("other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "notes.txt"), "keep me");
        var foreign = Assert.Throws<IOException>(() => ImagesToLevelDb.Write(pixels, labels, C, H, W, other, overwrite: true));
        Assert.Contains("notes.txt", foreign.Message);
        Assert.True(File.Exists(Path.Combine(other, "notes.txt")));
    }
}
