using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using Backprop.Tests.Vision;
using SkiaSharp;

namespace Backprop.Tests.Caffe.LevelDb;

/// <summary>Caffe's WindowData layer on a generated window file over two small generated PNGs.</summary>
public sealed class WindowDataLayerTests : IDisposable
{
    private const int H = 10, W = 12;
    private readonly TempDirectory dir = new();

    // Image i: pixel (y, x) has R = 10 + 20i + x, G = 100 + y, B = 200 − x − y (never 0, so padding shows as 0).
    public WindowDataLayerTests()
    {
        Directory.CreateDirectory(dir.File("imgs"));
        for (int i = 0; i < 2; i++) TestImages.WritePng(dir.File($"imgs/img{i}.png"), H, W, (y, x) => Color(i, y, x));
    }

    public void Dispose() => dir.Dispose();

    private static SKColor Color(int i, int y, int x) => new((byte)(10 + 20 * i + x), (byte)(100 + y), (byte)(200 - x - y));

    private static float Bgr(int i, int c, int y, int x) => c switch { 0 => Color(i, y, x).Blue, 1 => Color(i, y, x).Green, _ => Color(i, y, x).Red };

    // Image 0: two foreground windows (classes 1, 2), one background (class 5 becomes 0), one between the thresholds (dropped).
    // Image 1: one foreground window (class 3), one background.
    private string WindowFileText(string box = "2 3 5 6") => $"""
        # 0
        imgs/img0.png
        3 {H} {W}
        4
        1 0.9 {box}
        2 0.7 {box}
        5 0.1 0 0 3 3
        7 0.4 1 1 4 4
        # 1
        imgs/img1.png
        3 {H} {W}
        2
        3 0.8 {box}
        4 0.2 6 5 9 8
        """;

    private CaffeNet Build(string param, string transform = "crop_size: 4", string? windowFile = null)
    {
        File.WriteAllText(dir.File("windows.txt"), windowFile ?? WindowFileText());
        return NetBuilderTests.Build($$"""
            layer { name: "data" type: "WindowData" top: "data" top: "label"
              transform_param { {{transform}} }
              window_data_param { source: "{{dir.File("windows.txt")}}" root_folder: "{{dir.Path}}/" bg_threshold: 0.3 {{param}} } }
            """, Phase.Train, seed: 5);
    }

    private static (float[] Data, float[] Labels) Next(CaffeNet net, int iteration)
    {
        var result = net.Forward(new NetContext(Phase.Train, 5) { Iteration = iteration });
        return (result.Blobs["data"].ToArray(), result.Blobs["label"].ToArray());
    }

    [Fact]
    public void EachBatchHoldsTheBackgroundShareFirstThenTheForegroundShare()
    {
        var net = Build("batch_size: 10 fg_fraction: 0.25");
        Assert.Equal(new Shape(10, 3, 4, 4), net.BlobShapes["data"]);
        Assert.Equal(new Shape(10), net.BlobShapes["label"]);
        var layer = net.Layers.OfType<WindowDataLayer>().Single();
        Assert.Equal((3, 2), (layer.ForegroundWindows, layer.BackgroundWindows));   // the 0.4 window is dropped
        var seen = new HashSet<float>();
        for (int iteration = 0; iteration < 6; iteration++)
        {
            var (_, labels) = Next(net, iteration);
            Assert.All(labels[..8], l => Assert.Equal(0f, l));   // 10 − ⌊10 · 0.25⌋ = 8 background windows
            Assert.All(labels[8..], l => Assert.Contains(l, new[] { 1f, 2f, 3f }));
            seen.UnionWith(labels[8..]);
        }
        Assert.Equal([1f, 2f, 3f], seen.Order());   // every foreground window gets drawn
    }

    [Fact]
    public void AWindowOfCropSizeIsCopiedExactlyWithMeanAndScaleAndMirroredAtRandom()
    {
        // Box (2,3)-(5,6) is 4x4: warping it to crop_size 4 is a plain copy.
        var net = Build("batch_size: 4 fg_fraction: 1", "crop_size: 4 mirror: true scale: 0.5 mean_value: 1 mean_value: 2 mean_value: 3");
        int flipped = 0, plain = 0;
        for (int iteration = 0; iteration < 5; iteration++)
        {
            var (data, labels) = Next(net, iteration);
            for (int n = 0; n < 4; n++)
            {
                int image = labels[n] == 3 ? 1 : 0;
                bool isPlain = true, isFlipped = true;
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 4; y++)
                        for (int x = 0; x < 4; x++)
                        {
                            float value = data[((n * 3 + c) * 4 + y) * 4 + x];
                            isPlain &= value == (Bgr(image, c, 3 + y, 2 + x) - (c + 1)) * 0.5f;
                            isFlipped &= value == (Bgr(image, c, 3 + y, 5 - x) - (c + 1)) * 0.5f;
                        }
                Assert.True(isPlain || isFlipped, $"sample {n} of batch {iteration} is neither the window nor its mirror image");
                if (isPlain) plain++;
                else flipped++;
            }
        }
        Assert.True(plain > 0 && flipped > 0, $"{plain} plain, {flipped} flipped");
    }

    [Fact]
    public void AMeanFileIsTakenAtItsCentreSquareByOutputPosition()
    {
        // A 3 x 6 x 6 mean with crop 4: Caffe offsets both axes by (6 − 4) / 2 = 1.
        var values = new float[3 * 6 * 6];
        for (int i = 0; i < values.Length; i++) values[i] = i % 97;
        BlobProtos.WriteFile(dir.File("mean.binaryproto"), new MeanImage(3, 6, 6, values).ToBlobProto());
        var net = Build("batch_size: 2 fg_fraction: 1", $"crop_size: 4 mean_file: \"{dir.File("mean.binaryproto")}\"");
        var (data, labels) = Next(net, 0);
        for (int n = 0; n < 2; n++)
        {
            int image = labels[n] == 3 ? 1 : 0;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++)
                        Assert.Equal(Bgr(image, c, 3 + y, 2 + x) - values[(c * 6 + y + 1) * 6 + x + 1], data[((n * 3 + c) * 4 + y) * 4 + x]);
        }
        var small = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2", $"crop_size: 8 mean_file: \"{dir.File("mean.binaryproto")}\""));
        Assert.Contains("mean file", small.Message);
    }

    [Fact]
    public void ContextPaddingGrowsTheBoxAndLeavesZerosWhereItLeavesTheImage()
    {
        // The whole 10x12 image, crop 12, context_pad 2: the box grows by 12/8 = 1.5 about its centre (6, 5) to
        // x −3..15 (19 wide) and y −3..13 (17 tall; round(−2.5) = −3, away from zero as C's round); clipped, the image
        // warps to round(12·12/19) = 8 by round(10·12/17) = 7 at offset (round(3·12/19), round(3·12/17)) = (2, 2);
        // mirrored, the right padding comes first: round(4·12/19) = 3.
        Assert.Equal(new WindowCrop.Placement(0, 0, 11, 9, 8, 7, 2, 2), WindowCrop.Place(0, 0, 11, 9, W, H, 12, 2, square: false, mirror: false));
        Assert.Equal(new WindowCrop.Placement(0, 0, 11, 9, 8, 7, 3, 2), WindowCrop.Place(0, 0, 11, 9, W, H, 12, 2, square: false, mirror: true));

        string file = $"# 0\nimgs/img0.png\n3 {H} {W}\n1\n1 1 0 0 11 9\n";
        var net = Build("batch_size: 2 fg_fraction: 1 context_pad: 2", "crop_size: 12", file);
        var (data, _) = Next(net, 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 12; x++)
                {
                    bool inside = y is >= 2 and < 9 && x is >= 2 and < 10;
                    Assert.Equal(inside, data[(c * 12 + y) * 12 + x] != 0);
                }
    }

    [Fact]
    public void SquareModeTakesTheTightestSquareAboutTheBox()
    {
        // Box (2,3)-(5,4) is 4 wide and 2 tall: the square about its centre (4, 4) spans 2..6 both ways.
        Assert.Equal(new WindowCrop.Placement(2, 2, 6, 6, 4, 4, 0, 0), WindowCrop.Place(2, 3, 5, 4, W, H, 4, 0, square: true, mirror: false));
        var net = Build("batch_size: 3 fg_fraction: 0.34 crop_mode: \"square\"", "crop_size: 6", WindowFileText("2 3 5 4"));
        Assert.Equal(new Shape(3, 3, 6, 6), net.BlobShapes["data"]);
        var (_, labels) = Next(net, 0);
        Assert.Equal(new[] { 0f, 0f }, labels[..2]);   // ⌊3 · 0.34⌋ = 1 foreground window
    }

    [Fact]
    public void ABadWindowFileNamesTheFileAndLine()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2", windowFile: "# 0\nimgs/img0.png\n3 10 12\n1\n1 high 0 0 3 3\n"));
        Assert.Contains("windows.txt", e.Message);
        Assert.Contains("line 5", e.Message);
        Assert.Contains("'high'", e.Message);

        var background = Assert.Throws<CaffeNetException>(() => Build("batch_size: 2", windowFile: "# 0\nimgs/img0.png\n3 10 12\n1\n0 0.9 0 0 3 3\n"));
        Assert.Contains("class 0", background.Message);
    }

    [Fact]
    public void AMissingImageAndAWindowOutsideItsImageAreNamed()
    {
        var missing = Build("batch_size: 1 fg_fraction: 1", windowFile: $"# 0\nimgs/none.png\n3 {H} {W}\n1\n1 1 0 0 3 3\n");
        var e = Assert.Throws<CaffeNetException>(() => Next(missing, 0));
        Assert.Contains("none.png", e.Message);

        var outside = Build("batch_size: 1 fg_fraction: 1", windowFile: $"# 0\nimgs/img0.png\n3 {H} {W}\n1\n1 1 5 5 30 8\n");
        var o = Assert.Throws<CaffeNetException>(() => Next(outside, 0));
        Assert.Contains("line 5", o.Message);
        Assert.Contains("img0.png", o.Message);
    }
}
