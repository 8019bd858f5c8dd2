using System.Text.Json.Nodes;
using Backprop.Keras;
using Backprop.Onnx;
using Backprop.Onnx.Proto;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>What an exported Keras model holds: Keras layer names, the weights file's names, Keras's input order, clear errors.</summary>
public class KerasExportNamingTests(ITestOutputHelper log)
{
    private static Sequential SmallModel() => new(seed: 11,
        new Conv2D(4, 3, padding: "same", activation: "relu", inputShape: (7, 6, 2)),
        new BatchNormalization(),
        new MaxPooling2D(2),
        new Flatten(),
        new Dense(3, activation: "softmax"));

    [Fact]
    public void InitializersCarryTheWeightsFileNamesAndNodesTheLayerNames()
    {
        var model = SmallModel();
        using var stream = new MemoryStream();
        KerasOnnxExport.Export(model, stream);
        var onnx = ModelProto.Parser.ParseFrom(stream.ToArray());
        var state = model.Network.StateDict();
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), onnx.Graph.Initializer.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var init in onnx.Graph.Initializer)
            Assert.Equal(state[init.Name].ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(init.RawData.Span).ToArray());
        Assert.Contains(onnx.Graph.Node, n => n.Name == "conv2d" && n.OpType == "Conv");
        Assert.Contains(onnx.Graph.Node, n => n.Name == "conv2d.relu" && n.OpType == "Relu");
        Assert.Contains(onnx.Graph.Node, n => n.Name == "batch_normalization" && n.OpType == "BatchNormalization");
        Assert.Contains(onnx.Graph.Node, n => n.Name == "dense" && n.OpType == "Gemm");
        // Keras's channels-last input with a dynamic batch, and the output named as asked.
        var input = onnx.Graph.Input.Single();
        Assert.Equal("input", input.Name);
        Assert.Equal(["N", "7", "6", "2"], input.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString()));
        Assert.Equal("output", onnx.Graph.Output.Single().Name);
        Assert.DoesNotContain(onnx.Graph.Node, n => n.OpType == "Dropout");
    }

    [Fact]
    public void ASavedModelFileExportsToTheSameFunction()
    {
        var model = SmallModel();
        using var dir = new TempDirectory();
        string saved = dir.File("model.safetensors"), onnx = dir.File("net.onnx");
        model.Save(saved);
        KerasOnnxExport.Export(saved, onnx);
        var x = Tensor.Randn(new Generator(12), 3, 7, 6, 2);
        KerasExportCheck.AssertClose(model.Predict(x), OnnxRuntimeCheck.Run(onnx, x), log, "saved model file");
    }

    [Fact]
    public void AMissingModelFileIsNamed()
    {
        using var dir = new TempDirectory();
        string missing = dir.File("nothing.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => KerasOnnxExport.Export(missing, dir.File("net.onnx")));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void AnUnsupportedLayerNamesItselfAndItsClassAndNoFileIsLeft()
    {
        var model = new Sequential(seed: 13,
            new Conv2D(2, 3, inputShape: (6, 6, 1)),
            new UnknownLayer("mystery"),
            new Flatten());
        using var dir = new TempDirectory();
        string path = dir.File("net.onnx");
        var e = Assert.Throws<OnnxExportException>(() => KerasOnnxExport.Export(model, path));
        Assert.Equal("mystery", e.LayerPath);
        Assert.Equal("Cropping3D", e.LayerType);
        Assert.Contains("'mystery' (Cropping3D)", e.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    /// <summary>A layer the exporter does not know (a stand-in for one added to Backprop.Keras later).</summary>
    private sealed class UnknownLayer(string name) : Layer(name, null)
    {
        public override string ClassName => "Cropping3D";

        private protected override KerasShape BuildCore(KerasShape input, Generator generator) => input;

        internal override Tensor Forward(Tensor x, bool training) => x;

        private protected override void WriteConfig(JsonObject config) { }
    }
}
