using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Core networks exported to ONNX compute in ONNX Runtime what they compute in Backprop (evaluation mode).</summary>
public class CoreExportRuntimeTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void LeNetRunsInOnnxRuntimeAtBothOpsets(int opset)
    {
        var g = new Generator(1);
        var net = ExportTestNets.LeNet(g);
        using var dir = new TempDirectory();
        string path = dir.File("lenet.onnx");
        OnnxExporter.Export(net, [1, 28, 28], path, new OnnxExportOptions { Opset = opset });
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(opset, model.OpsetImport.Single().Version);
        Assert.Equal(8, model.IrVersion);
        OnnxRuntimeCheck.AssertMatches(net, path, Tensor.Randn(g, 2, 1, 28, 28), log, $"LeNet opset {opset}");
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void ResNetBlocksWithBatchNormAndAddRunInOnnxRuntime(int opset)
    {
        var g = new Generator(2);
        var net = ExportTestNets.ResNet(g);
        using var dir = new TempDirectory();
        string path = dir.File("resnet.onnx");
        OnnxExporter.Export(net, [3, 16, 16], path, new OnnxExportOptions { Opset = opset });
        var x = Tensor.Randn(g, 2, 3, 16, 16);
        OnnxRuntimeCheck.AssertMatches(net, path, x, log, "ResNet");
        // The running statistics matter: the same net with default statistics computes something else.
        net.Eval();
        var withDefaults = ExportTestNets.ResNet(new Generator(2));
        foreach (var (_, m) in withDefaults.NamedModules())
            if (m is BatchNorm2d bn) { bn.RunningMean.AsSpan().Clear(); bn.RunningVar.AsSpan().Fill(1); }
        Assert.NotEqual(net.Forward(x).ToArray(), withDefaults.Eval().Forward(x).ToArray());
    }

    [Fact]
    public void VggStyleNetRunsInOnnxRuntime()
    {
        var g = new Generator(3);
        var net = ExportTestNets.Vgg(g);
        using var dir = new TempDirectory();
        string path = dir.File("vgg.onnx");
        OnnxExporter.Export(net, [3, 16, 16], path);
        OnnxRuntimeCheck.AssertMatches(net, path, Tensor.Randn(g, 2, 3, 16, 16), log, "VGG");
    }

    // Sizes where ceil rounding gives one more output than floor (8 → 4 not 3; 9 + 2 pad → 5 not 4), and one where the
    // window that ceil would add starts in the right padding and must be dropped (5 with pad 1, kernel 2, stride 2 → 3).
    [Theory]
    [InlineData(8, 3, 2, 0)]
    [InlineData(9, 3, 2, 1)]
    [InlineData(5, 2, 2, 1)]
    public void CeilModePoolingRunsInOnnxRuntime(int size, int kernel, int stride, int padding)
    {
        var g = new Generator(4);
        var nets = new (string Name, Module Net)[]
        {
            ("max", new Sequential(new Conv2d(2, 3, 1, generator: g), new MaxPool2d(kernel, stride, padding, ceilMode: true))),
            ("avg", new Sequential(new AvgPool2d(kernel, stride, padding, ceilMode: true))),
            ("avg exclude pad", new Sequential(new AvgPool2d(kernel, stride, padding, ceilMode: true, countIncludePad: false))),
        };
        using var dir = new TempDirectory();
        foreach (var (name, net) in nets)
        {
            string path = dir.File(name + ".onnx");
            OnnxExporter.Export(net, [2, size, size], path);
            var x = Tensor.Randn(g, 2, 2, size, size);
            OnnxRuntimeCheck.AssertMatches(net, path, x, log, $"{name} pool {size}/{kernel}/{stride}/{padding}");
            // ONNX's own size rule (opsets 13-17: plain ceil or floor, no exception for windows in the padding) must give
            // Backprop's size too, so that every runtime's shape inference agrees with the declared output.
            var pool = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Last();
            long k = pool.Attribute.Single(a => a.Name == "kernel_shape").Ints[0], s = pool.Attribute.Single(a => a.Name == "strides").Ints[0];
            var pads = pool.Attribute.Single(a => a.Name == "pads").Ints;
            bool ceil = pool.Attribute.Any(a => a.Name == "ceil_mode" && a.I == 1);
            double steps = (double)(size + pads[0] + pads[2] - k) / s;
            Assert.Equal(net.Forward(x).Shape[2], (int)(ceil ? Math.Ceiling(steps) : Math.Floor(steps)) + 1);
        }
    }

    [Fact]
    public void OneFileRunsAtBatchOneAndThree()
    {
        var g = new Generator(5);
        var net = ExportTestNets.ResNet(g);
        using var dir = new TempDirectory();
        string path = dir.File("resnet.onnx");
        OnnxExporter.Export(net, [3, 16, 16], path);
        OnnxRuntimeCheck.AssertMatches(net, path, Tensor.Randn(g, 1, 3, 16, 16), log, "batch 1");
        OnnxRuntimeCheck.AssertMatches(net, path, Tensor.Randn(g, 3, 3, 16, 16), log, "batch 3");
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal("N", model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal("N", model.Graph.Output.Single().Type.TensorType.Shape.Dim[0].DimParam);
    }

    // Grouped, strided, dilated convolution, the activations, Linear over the last axis of an image (MatMul), a Flatten
    // that keeps a rank-3 shape (Reshape), and a log-softmax over the channel axis.
    [Fact]
    public void OtherCoreModulesRunInOnnxRuntime()
    {
        var g = new Generator(6);
        var net = new Sequential(
            new Conv2d(4, 6, 3, stride: 2, padding: 2, dilation: 2, groups: 2, generator: g), new LeakyRelu(0.2f),
            new Linear(5, 7, generator: g), new Tanh(),
            new Conv2d(6, 6, (1, 3), (1, 1), (0, 1), (1, 1), groups: 3, bias: false, generator: g), new Sigmoid(),
            new Flatten(2), new LogSoftmax(1), new Softmax());
        using var dir = new TempDirectory();
        string path = dir.File("misc.onnx");
        OnnxExporter.Export(net, [4, 9, 10], path);
        OnnxRuntimeCheck.AssertMatches(net, path, Tensor.Randn(g, 2, 4, 9, 10), log, "misc");
    }
}
