using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.IO;
using Google.Protobuf;
using V1Type = Backprop.Caffe.Proto.V1LayerParameter.Types.LayerType;

namespace Backprop.Tests.Caffe.Net;

/// <summary>Caffe's V0 and V1 nets, text and binary, load as Caffe upgrades them.</summary>
public sealed class NetUpgradeTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void V1LeNetUpgradesToTodaysLeNet()
    {
        var old = Prototxt.Parse<NetParameter>(V1Prototxts.LeNet, "lenet_v1.prototxt");
        var lines = new List<string>();
        Assert.True(NetUpgrade.UpgradeAsNeeded(old, "lenet_v1.prototxt", lines.Add));
        Assert.Equal(Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest), old);
        Assert.Contains(lines, l => l.Contains("V1", StringComparison.Ordinal) && l.Contains("lenet_v1.prototxt", StringComparison.Ordinal));
    }

    [Fact]
    public void V0NetFoldsPaddingAndMovesFlatSettingsIntoTheirMessages()
    {
        var old = Prototxt.Parse<NetParameter>(V1Prototxts.V0Net);
        var upgraded = NetUpgrade.Upgraded(old, "v0.prototxt");
        Assert.Equal(Prototxt.Parse<NetParameter>(V1Prototxts.V0NetUpgraded), upgraded);
        Assert.NotSame(old, upgraded);
        Assert.Equal(7, old.Layers.Count);   // the argument is left as it was
    }

    [Fact]
    public void AV0NetBuildsAndRuns()
    {
        var net = CaffeNet.Build(Prototxt.Parse<NetParameter>(V1Prototxts.V0Net), new NetState { Phase = Phase.Test }, new Generator(3), new NetContext(Phase.Test));
        Assert.Equal(["input", "conv1", "relu1", "pool1", "fc", "drop", "prob"], net.Layers.Select(l => l.Name));
        Assert.Equal(new Shape(3, 1, 3, 3), net.Layers[1].Blobs[0].Shape);
        Assert.Equal(new Shape(2, 3, 3, 3), net.BlobShapes["pool1"]);   // pad 1 from the padding layer keeps 6x6, pool halves it
        Assert.Equal(0f, net.Layers[1].Blobs[1].DecayMultiplier);
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.Ones(2, 1, 6, 6);
        var prob = net.Forward(context).Blobs["prob"].ToArray();
        Assert.Equal(1.0, prob[..4].Sum(), 5);
    }

    [Fact]
    public void AV1CaffemodelLoadsItsWeights()
    {
        var current = Prototxt.Parse<NetParameter>(TinyNets.ConvReluInnerProduct);
        var source = Build(1);
        // The same weights as Caffe wrote them before 2015: V1 layers (field 2) with enum types and blobs.
        var v1 = new NetParameter { Name = "tiny" };
        foreach (var layer in source.ToProto(current).Layer)
        {
            var old = new V1LayerParameter { Name = layer.Name, Type = V1TypeOf(layer.Type) };
            old.Bottom.Add(layer.Bottom);
            old.Top.Add(layer.Top);
            old.Blobs.Add(layer.Blobs);
            v1.Layers.Add(old);
        }
        string path = dir.File("tiny_v1.caffemodel");
        File.WriteAllBytes(path, v1.ToByteArray());

        var model = Snapshots.ReadModel(path);
        Assert.Empty(model.Layers);
        Assert.Equal(["data", "conv1", "relu1", "ip1", "loss"], model.Layer.Select(l => l.Name));
        var net = Build(2);
        Assert.Equal(2, net.CopyTrainedLayersFrom(model, path));
        Assert.Equal(Weights(source), Weights(net));
        // Handed over without reading the file, the loader upgrades it too.
        var again = Build(3);
        Assert.Equal(2, again.CopyTrainedLayersFrom(v1, path));
        Assert.Equal(Weights(source), Weights(again));
    }

    [Fact]
    public void AV0CaffemodelLoadsItsWeights()
    {
        var source = Build(1);
        var v0 = new NetParameter { Name = "tiny" };
        foreach (var layer in source.ToProto(Prototxt.Parse<NetParameter>(TinyNets.ConvReluInnerProduct)).Layer.Where(l => l.Blobs.Count > 0))
        {
            var inner = new V0LayerParameter { Name = layer.Name, Type = layer.Type == "Convolution" ? "conv" : "innerproduct" };
            inner.Blobs.Add(layer.Blobs);
            var connection = new V1LayerParameter { Layer = inner };
            connection.Bottom.Add(layer.Bottom);
            connection.Top.Add(layer.Top);
            v0.Layers.Add(connection);
        }
        v0.Input.Add("data");   // old files name their input without a shape; the upgrade drops it
        string path = dir.File("tiny_v0.caffemodel");
        File.WriteAllBytes(path, v0.ToByteArray());
        var net = Build(2);
        Assert.Equal(2, net.CopyTrainedLayersFrom(Snapshots.ReadModel(path), path));
        Assert.Equal(Weights(source), Weights(net));
    }

    [Fact]
    public void LayerAndLayersTogetherAreRefusedNamingTheFile()
    {
        var net = Prototxt.Parse<NetParameter>("""
            layer { name: "a" type: "ReLU" }
            layers { name: "b" type: RELU }
            """);
        var e = Assert.Throws<CaffeNetException>(() => NetUpgrade.UpgradeAsNeeded(net, "mixed.prototxt"));
        Assert.Contains("mixed.prototxt", e.Message);
        Assert.Contains("both 'layer' and 'layers'", e.Message);
    }

    [Fact]
    public void AnUnknownV0TypeIsNamed()
    {
        var net = Prototxt.Parse<NetParameter>("layers { layer { name: \"x\" type: \"warp\" } }");
        var e = Assert.Throws<CaffeNetException>(() => NetUpgrade.UpgradeAsNeeded(net, "old.prototxt"));
        Assert.Contains("old.prototxt: V0 layer 'x' has unknown type 'warp'", e.Message);
    }

    [Fact]
    public void AV0SettingOfTheWrongLayerIsAWarning()
    {
        var net = Prototxt.Parse<NetParameter>("layers { layer { name: \"r\" type: \"relu\" num_output: 3 } bottom: \"x\" top: \"x\" } input: \"x\" input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1");
        var lines = new List<string>();
        NetUpgrade.UpgradeAsNeeded(net, "old.prototxt", lines.Add);
        Assert.Contains(lines, l => l.StartsWith("Warning: old.prototxt: V0 layer 'r': parameter num_output", StringComparison.Ordinal));
        Assert.Equal("ReLU", net.Layer[1].Type);
    }

    [Fact]
    public void InputDimensionsWithoutInputsAreDroppedAsCaffeDropsThem()
    {
        var net = Prototxt.Parse<NetParameter>("input_dim: 1 input_dim: 2 layer { name: \"r\" type: \"ReLU\" }");
        NetUpgrade.UpgradeAsNeeded(net, "stray.prototxt");
        Assert.Empty(net.InputDim);
        Assert.Equal(["r"], net.Layer.Select(l => l.Name));
        var uneven = Prototxt.Parse<NetParameter>("input: \"data\" input_dim: 1 input_dim: 2");
        Assert.Contains("stray.prototxt: input_dim needs 4 values per input, got 2 for 1",
            Assert.Throws<CaffeNetException>(() => NetUpgrade.UpgradeAsNeeded(uneven, "stray.prototxt")).Message);
    }

    [Fact]
    public void OldBatchNormParamSpecsStopLearning()
    {
        var net = Prototxt.Parse<NetParameter>("layer { name: \"bn\" type: \"BatchNorm\" param { lr_mult: 1 } param { lr_mult: 1 } param { lr_mult: 1 } }");
        NetUpgrade.UpgradeAsNeeded(net, "bn.prototxt");
        Assert.All(net.Layer[0].Param, p => Assert.Equal((0f, 0f), (p.LrMult, p.DecayMult)));
    }

    [Fact]
    public void SolverTypeBecomesType()
    {
        var solver = Prototxt.Parse<SolverParameter>("solver_type: ADADELTA");
        var upgraded = SolverUpgrade.Upgraded(solver, "s.prototxt");
        Assert.Equal("AdaDelta", upgraded.Type);
        Assert.False(upgraded.HasSolverType);
        var both = Prototxt.Parse<SolverParameter>("solver_type: ADAM type: \"Adam\"");
        Assert.Contains("s.prototxt: the solver gives both solver_type", Assert.Throws<CaffeNetException>(() => SolverUpgrade.Upgraded(both, "s.prototxt")).Message);
    }

    [Fact]
    public void ConsolidatedV1SolverTrainsWithBothTestNets()
    {
        string train = dir.File("train_lmdb"), test = dir.File("test_lmdb");
        WriteStripes(train, 96, seed: 1);
        WriteStripes(test, 40, seed: 2);
        var solverDef = Prototxt.Parse<SolverParameter>(V1Prototxts.ConsolidatedSolver.Replace("{train}", train).Replace("{test}", test));
        var log = new StringWriter();
        var solver = new CaffeSolver(solverDef, log: log);
        solver.Solve();
        Assert.Contains("solver_mode is GPU: this build of Backprop runs on the CPU", log.ToString());
        Assert.Equal("SGD", solver.Definition.Type);
        Assert.Equal(2, solver.TestNets.Count);
        Assert.Equal(40, solver.Iteration);
        Assert.True(solver.Losses.TakeLast(5).Average() < solver.Losses.Take(5).Average() * 0.7, string.Join(", ", solver.Losses));
        var final = solver.TestResults.Where(r => r.Iteration == 40).ToList();
        Assert.Equal([0, 1], final.Select(r => r.Net));
        Assert.All(final, r => Assert.True(r.Outputs.Single(o => o.Name == "accuracy").Value > 0.9f, $"net {r.Net}: {r.Outputs[0]}"));
    }

    // Two classes of 28x28 images: label 0 has a bright top half, label 1 a bright bottom half, both with noise.
    private static void WriteStripes(string path, int count, ulong seed)
    {
        var random = new Random((int)seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % 2);
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    pixels[(i * 28 + y) * 28 + x] = (byte)(((y < 14) == (labels[i] == 0) ? 160 : 0) + random.Next(90));
        }
        ImagesToLmdb.Write(pixels, labels, 1, 28, 28, path);
    }

    private static CaffeNet Build(ulong seed) => CaffeNet.Build(Prototxt.Parse<NetParameter>(TinyNets.ConvReluInnerProduct),
        new NetState { Phase = Phase.Test }, new Generator(seed), new NetContext(Phase.Test));

    private static float[] Weights(CaffeNet net) => net.Parameters.SelectMany(p => p.ToArray()).ToArray();

    private static V1Type V1TypeOf(string type) => type switch
    {
        "Input" => V1Type.MemoryData,   // any type: the weights loader matches layers by name
        "Convolution" => V1Type.Convolution,
        "ReLU" => V1Type.Relu,
        "InnerProduct" => V1Type.InnerProduct,
        _ => V1Type.SoftmaxLoss,
    };
}
