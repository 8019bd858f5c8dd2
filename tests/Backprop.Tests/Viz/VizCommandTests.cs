using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Cli;
using Backprop.Tests.Caffe;
using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

/// <summary>The filters, features, graph and summary commands, and train's log, on a tiny net with weights written here.</summary>
public sealed class VizCommandTests : IDisposable
{
    private const string Tiny = TinyNets.ConvReluInnerProduct;

    private readonly TempDirectory dir = new();
    private readonly string model, weights, image;

    public VizCommandTests()
    {
        model = dir.File("tiny.prototxt");
        File.WriteAllText(model, Tiny);
        var def = Prototxt.Parse<NetParameter>(Tiny);
        var net = CaffeNet.Build(def, new NetState { Phase = Phase.Test }, new Generator(1), new NetContext(Phase.Test));
        var conv = net.Layers.Single(l => l.Name == "conv1");
        var w = conv.Blobs[0].AsSpan();   // (2, 1, 3, 3): filter 0 = 0..8, filter 1 = the centre tap alone
        for (int i = 0; i < 9; i++) w[i] = i;
        w.Slice(9, 9).Clear();
        w[9 + 4] = 1;
        conv.Blobs[1].AsSpan().Clear();
        weights = dir.File("tiny.caffemodel");
        Snapshots.WriteModel(weights, net.ToProto(def));

        // A 6x6 gray image with value 40y + 10x.
        image = dir.File("img.png");
        using var bitmap = new SKBitmap(new SKImageInfo(6, 6, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
            {
                byte v = (byte)(40 * y + 10 * x);
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        PngFile.Save(bitmap, image);
    }

    public void Dispose() => dir.Dispose();

    [Fact]
    public void FiltersWritesTheLabelledSheetOfTheConvWeights()
    {
        string png = dir.File("filters.png");
        var options = new FilterGridOptions { Scale = 4 };
        Assert.Equal(0, FiltersCommand.Run(model, weights, "conv1", png, options));
        using var b = SKBitmap.Decode(File.ReadAllBytes(png));
        // The same picture as the library draws for the weights written above: filter 0 = 0..8, filter 1 = the centre tap.
        var w = Tensor.FromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1, 0, 0, 0, 0], 2, 1, 3, 3);
        using var expected = FilterSheet.Render(w, "conv1", options);
        Assert.Equal((expected.Bitmap.Width, expected.Bitmap.Height), (b.Width, b.Height));
        var title = expected.Labels[0];
        Assert.Equal("conv1: 2 filters, 3×3", title.Text);
        Assert.Equal(PngFile.Encode(expected.Bitmap), File.ReadAllBytes(png));
        Assert.Throws<CaffeNetException>(() => FiltersCommand.Run(model, weights, "conv9", png));
        Assert.Throws<CaffeNetException>(() => FiltersCommand.Run(model, weights, "ip1", png));
    }

    [Fact]
    public void ChannelsOptionNamesTheSummaries()
    {
        Assert.Equal(ChannelSummary.L2Norm, FiltersCommand.ParseChannels("l2"));
        Assert.Equal(ChannelSummary.Mean, FiltersCommand.ParseChannels("MEAN"));
        Assert.Equal(ChannelSummary.AllChannels, FiltersCommand.ParseChannels("all"));
        Assert.Contains("l2, mean or all", Assert.Throws<ArgumentException>(() => FiltersCommand.ParseChannels("max")).Message);
    }

    [Fact]
    public void FeaturesRunsTheImageToTheLayer()
    {
        string png = dir.File("features.png");
        Assert.Equal(0, FeaturesCommand.Run(model, weights, image, "conv1", png, options: new FilterGridOptions { Scale = 1 }));
        using var small = SKBitmap.Decode(File.ReadAllBytes(png));
        // Map 1 is the image's centre 4x4 (the centre tap): values 40(i+1) + 10(j+1), from 50 to 200.
        var maps = Tensor.FromArray(new float[32], 1, 2, 4, 4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                maps.AsSpan()[16 + 4 * i + j] = 40 * (i + 1) + 10 * (j + 1);
        using var raw = FeatureMaps.Render(maps, new FilterGridOptions { Scale = 1 });
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal((byte)Math.Round(255.0 * (40 * i + 10 * j) / 150, MidpointRounding.AwayFromZero), raw.GetPixel(5 + j, i).Red);

        // Without a scale the two 4x4 maps are drawn 64 pixels wide each, not 4.
        Assert.Equal(0, FeaturesCommand.Run(model, weights, image, "conv1", png));
        using var readable = SKBitmap.Decode(File.ReadAllBytes(png));
        // (Both pictures are at least as wide as their title; the tiles' 60 extra pixels show in the height.)
        Assert.True(readable.Height - small.Height >= 60, $"{readable.Height} against {small.Height} pixels high");
    }

    [Fact]
    public void PrepareImageScalesAsTheDataLayer()
    {
        var lenet = Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest);
        var t = CaffeInspection.PrepareImage(image, lenet, Phase.Test, 1, 3, 3);   // resized 6x6 → 3x3, times 1/256
        Assert.Equal(new Shape(1, 1, 3, 3), t.Shape);
        Assert.All(t.ToArray(), v => Assert.InRange(v, 0f, 250f / 256));
        Assert.True(t.ToArray()[8] > t.ToArray()[0]);
    }

    [Fact]
    public void GraphWritesTheDiagramAndTheBackwardGraph()
    {
        string dot = dir.File("tiny.dot");
        Assert.Equal(0, GraphCommand.Run(model, dot));
        Assert.Contains("conv1\\n(Convolution)", File.ReadAllText(dot));

        var all = BackwardGraph.Of(Prototxt.Parse<NetParameter>(Tiny));
        var frozen = BackwardGraph.Of(Prototxt.Parse<NetParameter>(Tiny), ["conv1"]);
        Assert.Equal(4, all.TrainableLeaves);      // conv1 weights and bias, ip1 weights and bias
        Assert.Equal(2, frozen.TrainableLeaves);
        Assert.True(frozen.Nodes < all.Nodes);
        Assert.Contains("conv1.weight", all.Dot);
        Assert.DoesNotContain("conv1.weight", frozen.Dot);
        Assert.Contains("ip1.weight", frozen.Dot);
        Assert.Contains("ip1.bias", frozen.Dot);
        Assert.DoesNotContain("ip1.0", all.Dot);
        // Shown on request: greyed out, marked frozen, not fed into any node.
        var shown = BackwardGraph.Of(Prototxt.Parse<NetParameter>(Tiny), ["conv1"], showFrozen: true);
        Assert.Contains("conv1.weight\\n(2, 1, 3, 3)\\n(frozen, no gradient)", shown.Dot);
        Assert.Contains("fontcolor=\"gray50\"", shown.Dot);
        Assert.Equal(frozen.TrainableLeaves, shown.TrainableLeaves);
        Assert.Throws<CaffeNetException>(() => BackwardGraph.Of(Prototxt.Parse<NetParameter>(Tiny), ["relu1"]));

        string svg = dir.File("backward.svg");
        Assert.Equal(0, GraphCommand.Run(model, svg, backward: true, freeze: ["conv1"]));
        Assert.True(File.Exists(Graphviz.IsInstalled ? svg : dir.File("backward.dot")));
        if (Graphviz.IsInstalled) Assert.Contains("<svg", File.ReadAllText(svg));
    }

    [Fact]
    public void SummaryBuildsTheNet()
    {
        Assert.Equal(0, SummaryCommand.Run(model));
        var summary = ModelSummary.Of(CaffeInspection.Build(Prototxt.Parse<NetParameter>(Tiny), Phase.Train));
        Assert.Equal(2 * 9 + 2 + 3 * 32 + 3, summary.TotalParameters);
        Assert.Equal(new Shape(2, 2, 4, 4), summary.Rows.Single(r => r.Name == "relu1").OutputShapes[0]);
    }

    [Fact]
    public void TrainingLogIsWrittenFromTheSolver()
    {
        var p = Prototxt.Parse<SolverParameter>($"""
            base_lr: 0.01 lr_policy: "fixed" max_iter: 3 test_iter: 1 test_interval: 2 snapshot_prefix: "{dir.File("tiny")}" snapshot_after_train: false
            """);
        p.NetParam = Prototxt.Parse<NetParameter>("""
            name: "dummy"
            layer { name: "data" type: "DummyData" top: "data" top: "label"
              dummy_data_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } shape { dim: 2 } data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
            layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        var solver = new CaffeSolver(p, log: TextWriter.Null);
        solver.Solve();
        var (csv, png) = TrainingLog.Write(solver, null);
        Assert.Equal(dir.File("tiny_log.csv"), csv);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("iteration,epoch,loss,test_accuracy,test_loss", lines[0]);
        Assert.Equal(4, lines.Length);   // iterations 0, 1, 2; tests at 0 (test_initialization) and 2
        Assert.StartsWith($"0,0,{solver.Losses[0].ToString(System.Globalization.CultureInfo.InvariantCulture)},", lines[1]);
        Assert.EndsWith(",,", lines[2]);
        Assert.Equal(5, lines[3].Split(',').Length);
        Assert.DoesNotContain("", lines[3].Split(','));
        using var b = SKBitmap.Decode(File.ReadAllBytes(png));
        Assert.True(b.Width > 0);
    }
}
