using System.Diagnostics;
using Backprop.Caffe;
using Backprop.Onnx;
using Backprop.Onnx.Proto;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>What an exported Caffe net holds: names that follow layers and blobs, the weights bit for bit, outputs, clear errors.</summary>
public class CaffeExportNamingTests(ITestOutputHelper log)
{
    private static ModelProto ExportToModel(CaffeNet net, IReadOnlyList<string>? outputs = null)
    {
        using var stream = new MemoryStream();
        CaffeOnnxExport.Export(net, stream, null, outputs);
        return ModelProto.Parser.ParseFrom(stream.ToArray());
    }

    [Fact]
    public void InitializersAreTheLayerBlobsByLayerNameWithTheirValues()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.LeNetDeploy());
        var model = ExportToModel(net);
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "ip1.weight", "ip1.bias", "ip2.weight", "ip2.bias"],
            model.Graph.Initializer.Select(i => i.Name));
        foreach (var init in model.Graph.Initializer)
        {
            var layer = net.Layers.Single(l => l.Name == init.Name.Split('.')[0]);
            var blob = layer.Blobs[init.Name.EndsWith(".weight") ? 0 : 1];
            Assert.Equal(blob.Shape.ToArray().Select(d => (long)d), init.Dims);
            Assert.Equal(blob.ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(init.RawData.Span).ToArray());
        }
        Assert.Equal(["conv1", "pool1", "conv2", "pool2", "ip1.flatten", "ip1", "relu1", "ip2", "prob"], model.Graph.Node.Select(n => n.Name));
        Assert.Equal("data", model.Graph.Input.Single().Name);
        Assert.Equal("prob", model.Graph.Output.Single().Name);
        Assert.Equal("LeNet", model.Graph.Name);
    }

    [Fact]
    public void BatchNormStatisticsAreDividedByTheScaleFactorAndTheScaleIsFolded()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.NormalizationBlock);
        CaffeOnnxCheck.Randomize(net, new Generator(3));
        var model = ExportToModel(net);
        var bn = model.Graph.Node.First(n => n.OpType == "BatchNormalization");
        Assert.Equal(["conv1", "scale1.weight", "scale1.bias", "bn1.mean", "bn1.variance"], bn.Input);
        var mean = model.Graph.Initializer.Single(i => i.Name == "bn1.mean");
        var stored = net.Layers.Single(l => l.Name == "bn1").Blobs[0].ToArray();
        Assert.Equal(stored.Select(v => v * 0.25f), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(mean.RawData.Span).ToArray());
        Assert.Equal(0.001f, bn.Attribute.Single(a => a.Name == "epsilon").F);
    }

    [Fact]
    public void NamedOutputsReplaceTheDefaultOnes()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.LeNetDeploy());
        var model = ExportToModel(net, ["ip1", "prob"]);
        Assert.Equal(["ip1", "prob"], model.Graph.Output.Select(o => o.Name));
        // ip1 is rebound in place by relu1: the output is the value after it, and the node before it steps aside.
        Assert.Contains(model.Graph.Node, n => n.OpType == "Relu" && n.Output.Single() == "ip1");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Gemm" && n.Output.Single() == "ip1_0");
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Identity");
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(net, ["fc9"]));
        Assert.Contains("'fc9'", e.Message);
        Assert.Contains("conv1", e.Message);
    }

    [Fact]
    public void AnUnsupportedLayerIsNamedWithItsType()
    {
        var net = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 4 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "tile" type: "Tile" bottom: "conv1" top: "tile" tile_param { tiles: 2 } }
            """);
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(net));
        Assert.Equal("tile", e.LayerPath);
        Assert.Equal("Tile", e.LayerType);
        Assert.Contains("'tile' (Tile)", e.Message);
        Assert.Contains("Exported types:", e.Message);
    }

    [Fact]
    public void LayersThatCannotBeExportedSayWhy()
    {
        var label = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "DummyData" top: "data" top: "label" dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }
            layer { name: "loss" type: "EuclideanLoss" bottom: "data" bottom: "label" top: "loss" }
            layer { name: "join" type: "Power" bottom: "loss" top: "join" power_param { scale: 2 } }
            """);
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(label));
        Assert.Equal("join", e.LayerPath);
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("leaves out", e.Message);

        var batchAxis = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "softmax" type: "Softmax" bottom: "data" top: "softmax" softmax_param { axis: 0 } }
            """);
        e = Assert.Throws<OnnxExportException>(() => ExportToModel(batchAxis));
        Assert.Equal("softmax", e.LayerPath);
        Assert.Contains("batch axis", e.Message);

        var batchStatistics = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" batch_norm_param { use_global_stats: false } }
            """);
        e = Assert.Throws<OnnxExportException>(() => ExportToModel(batchStatistics));
        Assert.Equal("bn", e.LayerPath);
        Assert.Contains("use_global_stats", e.Message);
    }

    // Caffe's bvlc_alexnet deploy net (61M parameters, zero weights as its deploy file has no fillers): the target is 2 s;
    // asserted at 8 s because other work shares the machine.
    [Fact]
    public void AlexNetDeployNetExportsInSeconds()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.AlexNetDeploy);
        long parameters = net.Parameters.Sum(p => (long)p.Length);
        Assert.InRange(parameters, 60_000_000, 62_000_000);
        using var dir = new TempDirectory();
        string path = dir.File("alexnet.onnx");
        var watch = Stopwatch.StartNew();
        CaffeOnnxExport.Export(net, path);
        double seconds = watch.Elapsed.TotalSeconds;
        long size = new FileInfo(path).Length;
        log.WriteLine($"Caffe AlexNet ({parameters:N0} parameters) export: {seconds:F3} s, {size >> 20} MB");
        Assert.InRange(size, 4 * parameters, 4 * parameters + (1 << 16));
        Assert.True(seconds < 8, $"AlexNet export took {seconds:F2} s (target 2 s).");
    }
}
