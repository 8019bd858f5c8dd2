using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Onnx.Proto;

namespace Backprop.Tests.Onnx.Export;

/// <summary>What an exported file holds: names that follow module paths, the weights bit for bit, clear errors.</summary>
public class CoreExportNamingTests
{
    private static ModelProto ExportToModel(Module net, int[] inputShape, OnnxExportOptions? options = null)
    {
        using var stream = new MemoryStream();
        OnnxExporter.Export(net, inputShape, stream, options);
        return ModelProto.Parser.ParseFrom(stream.ToArray());
    }

    [Fact]
    public void InitializersAreTheParametersAndBuffersByModulePathWithTheirValues()
    {
        var net = ExportTestNets.ResNet(new Generator(7));
        var model = ExportToModel(net, [3, 16, 16]);
        var state = net.StateDict();
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), model.Graph.Initializer.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var init in model.Graph.Initializer)
        {
            Assert.Equal(state[init.Name].Shape.ToArray().Select(d => (long)d), init.Dims);
            float[] values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(init.RawData.Span).ToArray();
            Assert.Equal(state[init.Name].ToArray(), values);
        }
        Assert.Contains(model.Graph.Node, n => n.Name == "blocks.0.shortcut.0" && n.OpType == "Conv");
        Assert.Contains(model.Graph.Node, n => n.Name == "blocks.1.add" && n.OpType == "Add");
        Assert.Equal("input", model.Graph.Input.Single().Name);
        Assert.Equal("output", model.Graph.Output.Single().Name);
        Assert.Equal("output", model.Graph.Node.Last().Output.Single());
    }

    [Fact]
    public void DropoutIsLeftOutAndTheLastValueIsTheOutputEvenAfterIt()
    {
        var g = new Generator(8);
        var model = ExportToModel(new Sequential(new Linear(4, 3, generator: g), new Dropout(0.3f, g)), [4],
            new OnnxExportOptions { InputName = "data", OutputName = "prob" });
        Assert.Equal(["Gemm"], model.Graph.Node.Select(n => n.OpType));
        Assert.Equal(["data", "0.weight", "0.bias"], model.Graph.Node[0].Input);
        Assert.Equal("prob", model.Graph.Output.Single().Name);
    }

    [Fact]
    public void AnUnsupportedModuleIsNamedByPathAndType()
    {
        var g = new Generator(9);
        var features = new Sequential(new Conv2d(1, 2, 3, generator: g), new Relu(), new MaxPool2d(2), new ExportTestNets.Mystery());
        var net = new Sequential();
        net.Add(features, "features");
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(net, [1, 8, 8]));
        Assert.Equal("features.3", e.LayerPath);
        Assert.Equal("Mystery", e.LayerType);
        Assert.Contains("'features.3' (Mystery)", e.Message);
        Assert.Contains("IOnnxExportable", e.Message);
    }

    [Fact]
    public void AShapeMismatchNamesTheLayer()
    {
        var g = new Generator(10);
        var net = new Sequential(new Conv2d(3, 4, 3, generator: g), new Flatten(), new Linear(99, 2, generator: g));
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(net, [3, 8, 8]));
        Assert.Equal("2", e.LayerPath);
        Assert.Contains("99 input features", e.Message);
        Assert.Contains("(N, 144)", e.Message);
    }

    [Fact]
    public void FlatteningTheBatchIsRefused()
    {
        var e = Assert.Throws<OnnxExportException>(() => ExportToModel(new Sequential(new Flatten(0)), [3, 4]));
        Assert.Equal("0", e.LayerPath);
        Assert.Contains("batch", e.Message);
    }

    [Fact]
    public void ASharedWeightIsStoredOnce()
    {
        var b = new OnnxGraphBuilder("shared");
        var w = Tensor.Ones(3, 3);
        string first = b.AddInitializer("a.weight", w);
        Assert.Equal(first, b.AddInitializer("b.weight", w));
        Assert.Equal("b.weight", b.AddInitializer("b.weight", Tensor.Ones(3, 3)));
        Assert.Equal(["a.weight", "b.weight"], b.InitializerNames);
    }

    [Fact]
    public void BuilderKeepsNamesUniqueAndRefusesUnknownInputs()
    {
        var b = new OnnxGraphBuilder("g", 13);
        string x = b.AddInput("x", [2]);
        string w1 = b.AddInitializer("fc", Tensor.Ones(2, 2));
        string y1 = b.AddNode("MatMul", "fc", [x, w1]);
        Assert.Equal("fc", w1);
        Assert.Equal("fc_1", y1);
        Assert.Throws<ArgumentException>(() => b.AddNode("Relu", "r", ["nowhere"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxGraphBuilder("g", 12));
        Assert.Throws<OnnxExportException>(() => b.Write(new MemoryStream()));
    }

    [Fact]
    public void SaveReplacesTheFileAtomicallyAndLeavesNoTemporaryFile()
    {
        using var dir = new Backprop.Tests.IO.TempDirectory();
        string path = dir.File("net.onnx");
        File.WriteAllText(path, "old");
        OnnxExporter.Export(new Sequential(new Relu()), [3], path);
        Assert.Equal([path], Directory.GetFiles(dir.Path));
        Assert.Equal("Relu", ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Single().OpType);
        // A failed export leaves the old file as it was.
        File.WriteAllText(path, "old");
        Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(new Sequential(new ExportTestNets.Mystery()), [3], path));
        Assert.Equal("old", File.ReadAllText(path));
    }
}
