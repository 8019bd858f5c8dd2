using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.IO;
using Backprop.Vision;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>convert-imageset: images on disk -> LMDB -> Data layer gives back the very pixels and labels; compute-image-mean's mean.</summary>
public sealed class ImagesetToLmdbTests : IDisposable
{
    private const int Count = 5, Height = 4, Width = 6;
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    // Image k, channel c, pixel (y, x): a value no two places share within an image, all in 0..255.
    private static float Pixel(int k, int c, int y, int x) => (k * 37 + c * 71 + y * 13 + x * 5) % 256;

    private static Image MakeImage(int k, int channels)
    {
        var image = new Image(channels, Height, Width);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    image[c, y, x] = Pixel(k, c, y, x);
        return image;
    }

    /// <summary>Writes Count PNG images (gray or B, G, R) under a subfolder and a list file naming them; returns the list.</summary>
    private string WriteImages(int channels)
    {
        Directory.CreateDirectory(dir.File("img"));
        var lines = new List<string>();
        for (int k = 0; k < Count; k++)
        {
            File.WriteAllBytes(dir.File($"img/p {k}.png"), ImageEncoding.Encode(MakeImage(k, channels), "png"));
            lines.Add($"img/p {k}.png {10 + k}");   // a space inside the path: the label is after the last one
        }
        string list = dir.File("list.txt");
        File.WriteAllLines(list, lines);
        return list;
    }

    private (float[] Data, float[] Labels, Shape Shape) ReadThroughDataLayer(string db, string transform = "")
    {
        var net = CaffeNet.Build(Prototxt.Parse<NetParameter>($$"""
            layer { name: "d" type: "Data" top: "data" top: "label"
              data_param { source: "{{db}}" batch_size: {{Count}} backend: LMDB } {{transform}} }
            """), new NetState { Phase = Phase.Test }, new Generator(0), new NetContext(Phase.Test));
        var blobs = net.Forward(new NetContext(Phase.Test)).Blobs;
        return (blobs["data"].ToArray(), blobs["label"].ToArray(), blobs["data"].Shape);
    }

    private static float[] Expected(int channels) =>
        [.. Enumerable.Range(0, Count).SelectMany(k => MakeImage(k, channels).Pixels)];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ImagesComeBackExactlyThroughTheDataLayer(bool encoded, bool gray)
    {
        int channels = gray ? 1 : 3;
        string list = WriteImages(channels);
        string db = dir.File("db");
        var result = ImagesetToLmdb.Convert(dir.Path, list, db, new ImagesetOptions { Encoded = encoded, Gray = gray });
        Assert.Equal((Count, 0), (result.Written, result.Skipped.Count));

        var (data, labels, shape) = ReadThroughDataLayer(db);
        Assert.Equal(new Shape(Count, channels, Height, Width), shape);
        Assert.Equal(Expected(channels), data);
        Assert.Equal([10f, 11, 12, 13, 14], labels);

        using var reader = new LmdbDatumReader(db);
        var records = reader.Records().ToList();
        Assert.Equal("00000003_img/p 3.png", records[3].Key);   // Caffe's key: line number, underscore, path
        Assert.Equal(encoded, records[3].Datum.Encoded);
        if (encoded)   // a PNG that needs no change is stored as the file itself
            Assert.Equal(File.ReadAllBytes(dir.File("img/p 3.png")), records[3].Datum.Data.ToByteArray());
    }

    [Fact]
    public void ResizingAndEncodeTypeReencode()
    {
        string list = WriteImages(3);
        string db = dir.File("db");
        ImagesetToLmdb.Convert(dir.Path, list, db, new ImagesetOptions { ResizeHeight = 8, ResizeWidth = 12, EncodeType = "png" });
        using var reader = new LmdbDatumReader(db);
        var first = reader.Records().First().Datum;
        Assert.True(first.Encoded);
        var decoded = EncodedDatums.Decode(first, "record 0");
        Assert.Equal((3, 8, 12), (decoded.Channels, decoded.Height, decoded.Width));
        var resized = ImageResize.Bilinear(MakeImage(0, 3), 8, 12);
        Assert.Equal(resized.Pixels.Select(v => (byte)MathF.Round(v)), decoded.Data.ToByteArray());
    }

    [Fact]
    public void ShuffleIsAPermutationFixedByTheSeed()
    {
        string list = WriteImages(1);
        List<string> Order(ulong seed, string name)
        {
            ImagesetToLmdb.Convert(dir.Path, list, dir.File(name), new ImagesetOptions { Gray = true, Shuffle = true, Seed = seed });
            using var reader = new LmdbDatumReader(dir.File(name));
            return reader.Records().Select(r => r.Key[9..]).ToList();
        }
        var a = Order(7, "a");
        Assert.Equal(a, Order(7, "b"));
        Assert.Equal(Enumerable.Range(0, Count).Select(k => $"img/p {k}.png"), a.Order());
        Assert.NotEqual(Enumerable.Range(0, Count).Select(k => $"img/p {k}.png"), a);
    }

    [Fact]
    public void UnreadableImagesAreSkippedAndNamed()
    {
        string list = WriteImages(3);
        File.AppendAllLines(list, ["img/none.png 3"]);
        File.WriteAllText(dir.File("img/p 1.png"), "not an image");
        var lines = new List<string>();
        var result = ImagesetToLmdb.Convert(dir.Path, list, dir.File("db"), new ImagesetOptions(), lines.Add);
        Assert.Equal(Count - 1, result.Written);
        Assert.Equal(["img/p 1.png", "img/none.png"], result.Skipped);
        Assert.Contains(lines, l => l.Contains("none.png", StringComparison.Ordinal) && l.EndsWith("skipped.", StringComparison.Ordinal));
    }

    [Fact]
    public void ALineWithoutALabelNamesTheFileAndLine()
    {
        string list = dir.File("bad.txt");
        File.WriteAllLines(list, ["a.png 1", "b.png"]);
        var e = Assert.Throws<InvalidDataException>(() => ImagesetToLmdb.Convert(dir.Path, list, dir.File("db"), new ImagesetOptions()));
        Assert.Contains($"{list}:2: expected 'path label'", e.Message);
        Assert.False(Directory.Exists(dir.File("db")));
    }

    [Fact]
    public void CheckSizeRefusesAnImageOfAnotherSize()
    {
        string list = WriteImages(3);
        File.WriteAllBytes(dir.File("img/p 2.png"), ImageEncoding.Encode(new Image(3, 2, 2), "png"));
        var e = Assert.Throws<InvalidDataException>(() => ImagesetToLmdb.Convert(dir.Path, list, dir.File("db"), new ImagesetOptions { CheckSize = true }));
        Assert.Contains("p 2.png", e.Message);
        Assert.Contains("--check_size", e.Message);
        Assert.False(Directory.Exists(dir.File("db")));   // nothing half-written
    }

    [Fact]
    public void TheComputedMeanIsThePerPixelMeanAndTheDataLayerSubtractsIt()
    {
        string list = WriteImages(3);
        string db = dir.File("db");
        ImagesetToLmdb.Convert(dir.Path, list, db, new ImagesetOptions { Encoded = true });
        var mean = ImageMeanComputation.FromLmdb(db);
        var expected = new float[3 * Height * Width];
        for (int i = 0; i < expected.Length; i++)
        {
            float sum = 0;
            for (int k = 0; k < Count; k++) sum += MakeImage(k, 3).Pixels[i];
            expected[i] = sum / Count;
        }
        Assert.Equal((3, Height, Width), (mean.Channels, mean.Height, mean.Width));
        Assert.Equal(expected, mean.Values);
        Assert.Equal(expected.Take(Height * Width).Average(), ImageMeanComputation.ChannelMeans(mean)[0], 4);

        string meanFile = dir.File("mean.binaryproto");
        BlobProtos.WriteFile(meanFile, mean.ToBlobProto());
        var (data, _, _) = ReadThroughDataLayer(db, $"transform_param {{ mean_file: \"{meanFile}\" scale: 0.5 }}");
        var pixels = Expected(3);
        for (int i = 0; i < data.Length; i++) Assert.Equal((pixels[i] - expected[i % expected.Length]) * 0.5f, data[i]);
    }
}
