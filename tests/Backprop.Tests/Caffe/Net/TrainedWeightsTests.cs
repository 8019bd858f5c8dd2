using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Cli;
using Backprop.Tests.IO;
using Google.Protobuf;

namespace Backprop.Tests.Caffe.Net;

/// <summary>Loading a .caffemodel: Caffe's log lines, warnings for layers the file leaves out, refusal of empty files and NaN/Inf weights.</summary>
public sealed class TrainedWeightsTests : IDisposable
{
    private const string Tiny = TinyNets.ConvReluInnerProduct;

    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static CaffeNet Build(ulong seed) =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>(Tiny), new NetState { Phase = Phase.Test }, new Generator(seed), new NetContext(Phase.Test));

    private static NetParameter Trained() => Build(1).ToProto(Prototxt.Parse<NetParameter>(Tiny));

    private static float[] Weights(CaffeNet net) => net.Parameters.SelectMany(p => p.ToArray()).ToArray();

    [Fact]
    public void LogsEachCopiedLayerAndIgnoresLayersTheNetLacks()
    {
        var trained = Trained();
        trained.Layer.Add(new LayerParameter { Name = "extra", Type = "ReLU" });
        var net = Build(2);
        var lines = new List<string>();
        int copied = net.CopyTrainedLayersFrom(trained, "t.caffemodel", new WeightLoading { Log = lines.Add });
        Assert.Equal(2, copied);
        Assert.Contains("Copying source layer conv1", lines);
        Assert.Contains("Copying source layer ip1", lines);
        Assert.Contains("Ignoring source layer extra", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Equal(Weights(Build(1)), Weights(net));
    }

    [Fact]
    public void WarnsForEveryLearnableLayerTheFileLeavesOut()
    {
        var trained = Trained();
        trained.Layer.Remove(trained.Layer.Single(l => l.Name == "ip1"));   // as a file cut at a layer boundary
        var lines = new List<string>();
        var warnings = new List<string>();
        Build(2).CopyTrainedLayersFrom(trained, "cut.caffemodel", new WeightLoading { Log = lines.Add, Warn = warnings.Add });
        var warning = Assert.Single(warnings);
        Assert.Contains("'ip1'", warning);
        Assert.Contains("cut.caffemodel", warning);
        Assert.DoesNotContain(lines, l => l.Contains("ip1", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEmptyFileIsRefusedNamingIt()
    {
        string path = dir.File("empty.caffemodel");
        File.WriteAllBytes(path, []);
        var net = Build(2);
        var before = Weights(net);
        var e = Assert.Throws<CaffeNetException>(() => net.CopyTrainedLayersFrom(Snapshots.ReadModel(path), path));
        Assert.Contains(path, e.Message);
        Assert.Contains("no layers", e.Message);
        Assert.Equal(before, Weights(net));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void NonFiniteWeightsAreRefusedNamingLayerBlobAndIndexAndChangeNothing(float bad, string shown)
    {
        var trained = Trained();
        trained.Layer.Single(l => l.Name == "ip1").Blobs[1].Data[2] = bad;
        var net = Build(2);
        var before = Weights(net);
        var e = Assert.Throws<CaffeNetException>(() => net.CopyTrainedLayersFrom(trained, "flipped.caffemodel"));
        Assert.Contains("flipped.caffemodel: layer 'ip1' blob 1", e.Message);
        Assert.Contains($"index 2, is {shown}", e.Message);
        Assert.Contains("--allow-nonfinite-weights", e.Message);
        Assert.Equal(before, Weights(net));   // conv1 came first in the file but was not copied either
    }

    [Fact]
    public void NonFiniteWeightsLoadWithAWarningWhenAllowed()
    {
        var trained = Trained();
        trained.Layer.Single(l => l.Name == "conv1").Blobs[0].Data[5] = float.NaN;
        var net = Build(2);
        var warnings = new List<string>();
        net.CopyTrainedLayersFrom(trained, "flipped.caffemodel", new WeightLoading { Warn = warnings.Add, AllowNonFinite = true });
        Assert.Contains("layer 'conv1' blob 0 has 1 non-finite value of 18; the first, at index 5, is NaN", Assert.Single(warnings));
        Assert.True(float.IsNaN(net.Layers.Single(l => l.Name == "conv1").Blobs[0].AsSpan()[5]));
    }

    [Fact]
    public void DoubleDataTooLargeForFloatIsNonFinite()
    {
        var trained = Trained();
        var blob = trained.Layer.Single(l => l.Name == "ip1").Blobs[1];
        blob.DoubleData.Add(blob.Data.Select(v => (double)v));
        blob.Data.Clear();
        blob.DoubleData[0] = 1e300;
        Assert.Contains("is +Infinity", Assert.Throws<CaffeNetException>(() => Build(2).CopyTrainedLayersFrom(trained, "d.caffemodel")).Message);
    }

    [Fact]
    public void SolverLoadWeightsLogsAndRefuses()
    {
        string path = dir.File("w.caffemodel");
        var trained = Trained();
        Snapshots.WriteModel(path, trained);
        var solverDef = new SolverParameter { BaseLr = 0.01f, MaxIter = 1, NetParam = Prototxt.Parse<NetParameter>(Tiny) };
        var log = new StringWriter();
        new CaffeSolver(solverDef, log: log).LoadWeights(path);
        Assert.Contains("Copying source layer conv1", log.ToString());

        trained.Layer[1].Blobs[0].Data[0] = float.PositiveInfinity;
        Snapshots.WriteModel(path, trained);
        Assert.Throws<CaffeNetException>(() => new CaffeSolver(solverDef).LoadWeights(path));
        log = new StringWriter();
        new CaffeSolver(solverDef, log: log).LoadWeights(path, allowNonFinite: true);
        Assert.Contains("Warning: " + path + ": layer 'conv1' blob 0", log.ToString());
    }

    [Fact]
    public void TestCommandRefusesAnEmptyCaffemodel()
    {
        string model = dir.File("tiny.prototxt"), weights = dir.File("empty.caffemodel");
        File.WriteAllText(model, Tiny);
        File.WriteAllBytes(weights, []);
        var e = Assert.Throws<CaffeNetException>(() => TestCommand.Run(model, weights, 1));
        Assert.Contains(weights, e.Message);

        // A file truncated inside a layer is refused by the protobuf reader, naming the file too.
        byte[] bytes = Trained().ToByteArray();
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        Assert.Contains(weights, Assert.Throws<CaffeNetException>(() => TestCommand.Run(model, weights, 1)).Message);
    }
}
