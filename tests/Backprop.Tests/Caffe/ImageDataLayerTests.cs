using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using Backprop.Tests.Vision;
using SkiaSharp;

namespace Backprop.Tests.Caffe;

public sealed class ImageDataLayerTests : IDisposable
{
    private const int H = 3, W = 4;
    private static readonly int[] Labels = [7, 3, 0, 9, 4];
    private readonly TempDirectory dir = new();

    // Five 3x4 PNGs in imgs/, with pixel (y, x) of image i: R = 10i + x, G = 50 + 10i + y, B = 200 − 10i − x − y.
    public ImageDataLayerTests()
    {
        Directory.CreateDirectory(dir.File("imgs"));
        for (int i = 0; i < Labels.Length; i++)
            TestImages.WritePng(dir.File($"imgs/img{i}.png"), H, W, (y, x) => Color(i, y, x));
        WriteList(Enumerable.Range(0, Labels.Length).Select(i => $"imgs/img{i}.png {Labels[i]}"));
    }

    public void Dispose() => dir.Dispose();

    private static SKColor Color(int i, int y, int x) => new((byte)(10 * i + x), (byte)(50 + 10 * i + y), (byte)(200 - 10 * i - x - y));

    /// <summary>Channel c (B, G, R) of image i at (y, x).</summary>
    private static float Bgr(int i, int c, int y, int x) => c switch
    {
        0 => Color(i, y, x).Blue,
        1 => Color(i, y, x).Green,
        _ => Color(i, y, x).Red,
    };

    private void WriteList(IEnumerable<string> lines, string name = "list.txt") => File.WriteAllLines(dir.File(name), lines);

    private CaffeNet Build(string imageDataParam, string transformParam = "", Phase phase = Phase.Test, ulong seed = 1) =>
        NetBuilderTests.Build($$"""
            layer { name: "data" type: "ImageData" top: "data" top: "label"
              transform_param { {{transformParam}} }
              image_data_param { source: "{{dir.File("list.txt")}}" root_folder: "{{dir.Path}}" {{imageDataParam}} } }
            """, phase, seed);

    private static (float[] Data, float[] Labels) Next(CaffeNet net, Phase phase = Phase.Test, ulong seed = 1, int iteration = 0)
    {
        var result = net.Forward(new NetContext(phase, seed) { Iteration = iteration });
        return (result.Blobs["data"].ToArray(), result.Blobs["label"].ToArray());
    }

    [Fact]
    public void ShapesAreInferredFromTheFirstImageAtBuild()
    {
        var net = Build("batch_size: 2");
        Assert.Equal(new Shape(2, 3, H, W), net.BlobShapes["data"]);
        Assert.Equal(new Shape(2), net.BlobShapes["label"]);
        var source = Assert.IsAssignableFrom<IDataSourceLayer>(net.DataLayer);
        Assert.IsType<ImageDataLayer>(source);
        Assert.Equal((2, 5), (source.BatchSize, source.DatasetSize));

        var gray = Build("batch_size: 3 is_color: false");
        Assert.Equal(new Shape(3, 1, H, W), gray.BlobShapes["data"]);
    }

    [Fact]
    public void BatchesHoldTheScaledImagesAndLabelsInListOrderCycling()
    {
        var net = Build("batch_size: 2", "scale: 0.5");
        int[][] expected = [[0, 1], [2, 3], [4, 0], [1, 2]];
        foreach (var batch in expected)
        {
            var (data, labels) = Next(net);
            Assert.Equal(batch.Select(i => (float)Labels[i]), labels);
            for (int n = 0; n < 2; n++)
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++)
                            Assert.Equal(Bgr(batch[n], c, y, x) * 0.5f, data[((n * 3 + c) * H + y) * W + x]);
        }
        net.DataLayer!.Seek(3);
        Assert.Equal([9f, 4f], Next(net).Labels);
    }

    [Fact]
    public void MeanValueRandSkipAndGrayscale()
    {
        var net = Build("batch_size: 1 rand_skip: 2 is_color: false", "mean_value: 100");
        var (data, labels) = Next(net);
        Assert.Equal([(float)Labels[2]], labels);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                var c = Color(2, y, x);
                Assert.Equal(Backprop.Vision.ImageFile.Luma(c.Red, c.Green, c.Blue) - 100f, data[y * W + x]);
            }
    }

    [Fact]
    public void ShuffleIsDeterministicForASeedAndReshufflesEachPass()
    {
        float[] Run(ulong seed)
        {
            var net = Build("batch_size: 5 shuffle: true", seed: seed);
            return [.. Enumerable.Range(0, 3).SelectMany(_ => Next(net, seed: seed).Labels)];
        }
        var first = Run(1);
        Assert.Equal(first, Run(1));
        Assert.NotEqual(first, Run(2));
        for (int pass = 0; pass < 3; pass++)
            Assert.Equal(Labels.Order().Select(l => (float)l), first.Skip(5 * pass).Take(5).Order());
        Assert.False(first.Take(5).SequenceEqual(first.Skip(5).Take(5)) && first.Take(5).SequenceEqual(first.Skip(10)), "every pass had the same order");

        // Resuming at sample 7 (a fresh net, as after a restart) continues the same shuffled sequence.
        var resumed = Build("batch_size: 5 shuffle: true", seed: 1);
        resumed.DataLayer!.Seek(7);
        Assert.Equal(first.Skip(7).Take(5), Next(resumed).Labels);
    }

    [Fact]
    public void TestPhaseCropsTheCentreAndNeverMirrors()
    {
        // 3x4 → 2x2: top (3 − 2) / 2 = 0, left (4 − 2) / 2 = 1.
        var net = Build("batch_size: 5", "crop_size: 2 mirror: true");
        Assert.Equal(new Shape(5, 3, 2, 2), net.BlobShapes["data"]);
        for (int iteration = 0; iteration < 3; iteration++)
        {
            net.DataLayer!.Seek(0);
            var (data, _) = Next(net, iteration: iteration);
            for (int n = 0; n < 5; n++)
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 2; y++)
                        for (int x = 0; x < 2; x++)
                            Assert.Equal(Bgr(n, c, y, 1 + x), data[((n * 3 + c) * 2 + y) * 2 + x]);
        }
    }

    [Fact]
    public void TrainPhaseCropsSomeWindowAndMirrorsSometimes()
    {
        var net = Build("batch_size: 5", "crop_size: 2 mirror: true", Phase.Train);
        var windows = new HashSet<(int Top, int Left, bool Flip)>();
        for (int iteration = 0; iteration < 8; iteration++)
        {
            net.DataLayer!.Seek(0);
            var (data, _) = Next(net, Phase.Train, iteration: iteration);
            for (int n = 0; n < 5; n++)
            {
                var matches = (from top in Enumerable.Range(0, H - 1)
                               from left in Enumerable.Range(0, W - 1)
                               from flip in new[] { false, true }
                               where Enumerable.Range(0, 12).All(k =>
                               {
                                   int c = k / 4, y = k / 2 % 2, x = k % 2;
                                   return Bgr(n, c, top + y, left + (flip ? 1 - x : x)) == data[((n * 3 + c) * 2 + y) * 2 + x];
                               })
                               select (top, left, flip)).ToList();
                windows.Add(Assert.Single(matches));
            }
        }
        Assert.Contains(windows, w => w.Flip);
        Assert.Contains(windows, w => !w.Flip);
        Assert.True(windows.Select(w => (w.Top, w.Left)).Distinct().Count() > 1, "every crop was at the same place");
    }

    [Fact]
    public void ResizeMakesMixedSizesOneSize()
    {
        TestImages.WritePng(dir.File("imgs/big.png"), 6, 8, (y, x) => new SKColor(0, 0, 0));
        WriteList(["imgs/img0.png 1", "imgs/big.png 2"]);
        var net = Build("batch_size: 2 new_height: 5 new_width: 7");
        Assert.Equal(new Shape(2, 3, 5, 7), net.BlobShapes["data"]);
        var (data, labels) = Next(net);
        Assert.Equal([1f, 2f], labels);
        Assert.All(data.Skip(3 * 35), v => Assert.Equal(0f, v));

        var unresized = Build("batch_size: 2");
        var e = Assert.Throws<CaffeNetException>(() => Next(unresized));
        Assert.Contains("big.png", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("new_height", e.Message);
    }

    [Fact]
    public void NewHeightWithoutNewWidthIsRefused()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2 new_height: 5"));
        Assert.Contains("new_width", e.Message);
    }

    [Theory]
    [InlineData("imgs/img2.png")]
    [InlineData("imgs/img2.png seven")]
    public void BadListLineNamesTheFileAndLine(string bad)
    {
        WriteList(["imgs/img0.png 7", "", bad, "imgs/img1.png 3"]);
        var e = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2"));
        Assert.Contains("list.txt", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void BlankLinesAndWindowsLineEndsAreAccepted()
    {
        File.WriteAllText(dir.File("list.txt"), "\r\nimgs/img0.png 7\r\n\r\n  imgs/img1.png\t3  \r\n");
        var net = Build("batch_size: 3");
        Assert.Equal(2, net.DataLayer!.DatasetSize);
        Assert.Equal([7f, 3f, 7f], Next(net).Labels);
    }

    [Fact]
    public void MissingImageIsNamedWhenItsBatchIsRead()
    {
        WriteList(["imgs/img0.png 7", "imgs/img1.png 3", "imgs/gone.png 1"]);
        var net = Build("batch_size: 2");   // images are decoded lazily: the list is not checked at build
        Next(net);
        var e = Assert.Throws<CaffeNetException>(() => Next(net));
        Assert.Contains("gone.png", e.Message);
        Assert.Contains("line 3", e.Message);

        WriteList(["imgs/gone.png 1"]);
        var first = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2"));
        Assert.Contains("gone.png", first.Message);
    }

    [Fact]
    public void CorruptImageIsNamed()
    {
        File.WriteAllText(dir.File("imgs/bad.png"), "not a png");
        WriteList(["imgs/img0.png 7", "imgs/bad.png 3"]);
        var net = Build("batch_size: 2");
        var e = Assert.Throws<CaffeNetException>(() => Next(net));
        Assert.Contains("bad.png", e.Message);
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void ImagePathsWithoutRootFolderAreFoundBesideTheList()
    {
        var net = NetBuilderTests.Build($$"""
            layer { name: "data" type: "ImageData" top: "data" top: "label"
              image_data_param { source: "{{dir.File("list.txt")}}" batch_size: 1 } }
            """, Phase.Test);
        Assert.Equal([7f], Next(net).Labels);
    }
}
