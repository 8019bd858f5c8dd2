using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Onnx;
using Backprop.Tests.Caffe;
using Backprop.Tests.Data;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Caffe nets exported to ONNX compute in ONNX Runtime what they compute in Backprop's TEST phase (within 1e-4).</summary>
public class CaffeExportRuntimeTests(ITestOutputHelper log)
{
    private static Dictionary<string, Tensor> Input(Generator g, params int[] shape) => new() { ["data"] = Tensor.Randn(g, shape) };

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void LeNetDeployNetRunsInOnnxRuntime(int opset)
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.LeNetDeploy(3));
        CaffeOnnxCheck.Randomize(net, new Generator(2));
        using var dir = new TempDirectory();
        string path = dir.File("lenet.onnx");
        CaffeOnnxExport.Export(net, path, new OnnxExportOptions { Opset = opset });
        var outputs = CaffeOnnxCheck.AssertMatches(net, path, Input(new Generator(3), 3, 1, 28, 28), log, $"LeNet deploy opset {opset}");
        Assert.Equal(["prob"], outputs);
    }

    // examples/mnist/lenet_train_test.prototxt in the TEST phase, reading a small LMDB: the label is no input and the
    // output is ip2, what the loss and accuracy layers read.
    [Fact]
    public void LeNetTrainTestNetInTheTestPhaseExportsTheScoresBeforeTheLoss()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("images"), IdxBytes.Images(5));
        File.WriteAllBytes(dir.File("labels"), IdxBytes.Labels(1, 2, 3, 4, 5));
        MnistToLmdb.Convert(dir.File("images"), dir.File("labels"), dir.File("mnist_test_lmdb"));
        string prototxt = LenetPrototxts.TrainTest.Replace("examples/mnist/mnist_test_lmdb", dir.File("mnist_test_lmdb")).Replace("batch_size: 100", "batch_size: 4");
        var net = CaffeOnnxCheck.Build(prototxt);
        CaffeOnnxCheck.Randomize(net, new Generator(4));
        string path = dir.File("lenet.onnx");
        CaffeOnnxExport.Export(net, path);
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(["data"], model.Graph.Input.Select(i => i.Name));
        Assert.Equal(["ip2"], model.Graph.Output.Select(o => o.Name));
        CaffeOnnxCheck.AssertMatches(net, path, new Dictionary<string, Tensor>(), log, "LeNet TEST");
    }

    [Fact]
    public void LrnConcatEltwiseBatchNormAndScaleRunInOnnxRuntime()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.NormalizationBlock);
        CaffeOnnxCheck.Randomize(net, new Generator(5));
        using var dir = new TempDirectory();
        string path = dir.File("block.onnx");
        CaffeOnnxExport.Export(net, path);
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // bn1 + scale1 are one node; bn2 has no Scale after it.
        Assert.Equal(2, model.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Single(model.Graph.Node, n => n.OpType == "LRN");
        CaffeOnnxCheck.AssertMatches(net, path, Input(new Generator(6), 2, 3, 9, 9), log, "norm block");
        // The statistics matter: with the scale factor doubled the net computes something else.
        var before = net.Forward(Context(Input(new Generator(6), 2, 3, 9, 9))).Blobs["bias2"].ToArray();
        net.Layers.Single(l => l.Name == "bn1").Blobs[2].AsSpan()[0] = 8;
        Assert.NotEqual(before, net.Forward(Context(Input(new Generator(6), 2, 3, 9, 9))).Blobs["bias2"].ToArray());
    }

    [Fact]
    public void CifarQuickCeilPoolingRunsInOnnxRuntime()
    {
        var net = CaffeOnnxCheck.Build(CaffeExportNets.CifarQuick);
        using var dir = new TempDirectory();
        string path = dir.File("cifar.onnx");
        CaffeOnnxExport.Export(net, path);
        // Caffe rounds up: 32 → 16 → 8 → 4 (floor would give 15 → 7 → 3).
        Assert.Equal(new Shape(2, 16, 4, 4), net.BlobShapes["pool3"]);
        CaffeOnnxCheck.AssertMatches(net, path, Input(new Generator(7), 2, 3, 32, 32), log, "cifar10_quick");
    }

    // Sizes where Caffe's ceil differs from floor: with and without padding, where the end pad exceeds the start pad
    // (AVE then pads explicitly), and where the window ceil would add starts in the padding and is dropped (5/2/2/1).
    [Theory]
    [InlineData(32, 3, 2, 0)]
    [InlineData(9, 3, 2, 1)]
    [InlineData(8, 3, 2, 1)]
    [InlineData(5, 2, 2, 1)]
    [InlineData(7, 3, 3, 2)]
    [InlineData(6, 2, 3, 0)]
    public void CaffePoolingSizesRunInOnnxRuntime(int size, int kernel, int stride, int pad)
    {
        foreach (string method in new[] { "MAX", "AVE" })
        {
            var net = CaffeOnnxCheck.Build($$"""
                layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 2 dim: {{size}} dim: {{size + 1}} } } }
                layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: {{method}} kernel_size: {{kernel}} stride: {{stride}} pad: {{pad}} } }
                """);
            using var dir = new TempDirectory();
            string path = dir.File("pool.onnx");
            CaffeOnnxExport.Export(net, path);
            CaffeOnnxCheck.AssertMatches(net, path, Input(new Generator(8), 2, 2, size, size + 1), log, $"{method} {size}/{kernel}/{stride}/{pad}");
        }
    }

    [Fact]
    public void GlobalPoolingDeconvolutionAndOtherLayersRunInOnnxRuntime()
    {
        var net = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 4 dim: 5 dim: 6 } } }
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2 } }
            layer { name: "up3" type: "Deconvolution" bottom: "up" top: "up3" convolution_param { num_output: 3 kernel_h: 3 kernel_w: 2 stride: 1 dilation: 2 bias_term: false } }
            layer { name: "prelu" type: "PReLU" bottom: "up3" top: "up3" }
            layer { name: "split" type: "Split" bottom: "up3" top: "a" top: "b" }
            layer { name: "gmax" type: "Pooling" bottom: "a" top: "gmax" pooling_param { pool: MAX global_pooling: true } }
            layer { name: "gave" type: "Pooling" bottom: "b" top: "gave" pooling_param { pool: AVE global_pooling: true } }
            layer { name: "elu" type: "ELU" bottom: "b" top: "elu" elu_param { alpha: 0.7 } }
            layer { name: "leaky" type: "ReLU" bottom: "elu" top: "leaky" relu_param { negative_slope: 0.1 } }
            layer { name: "abs" type: "AbsVal" bottom: "leaky" top: "abs" }
            layer { name: "power" type: "Power" bottom: "abs" top: "power" power_param { power: 1.5 scale: 2 shift: 0.5 } }
            layer { name: "log" type: "Log" bottom: "power" top: "log" log_param { base: 2 scale: 3 shift: 1 } }
            layer { name: "exp" type: "Exp" bottom: "log" top: "exp" exp_param { base: 1.5 scale: 0.2 shift: -1 } }
            layer { name: "sig" type: "Sigmoid" bottom: "exp" top: "sig" }
            layer { name: "tanh" type: "TanH" bottom: "sig" top: "tanh" }
            layer { name: "drop" type: "Dropout" bottom: "tanh" top: "tanh" dropout_param { dropout_ratio: 0.3 } }
            layer { name: "flat" type: "Flatten" bottom: "tanh" top: "flat" flatten_param { axis: 2 } }
            layer { name: "ip_axis2" type: "InnerProduct" bottom: "flat" top: "ip_axis2" inner_product_param { num_output: 5 axis: 2 } }
            layer { name: "ip_t" type: "InnerProduct" bottom: "ip_axis2" top: "ip_t" inner_product_param { num_output: 4 transpose: true } }
            layer { name: "reshape" type: "Reshape" bottom: "ip_t" top: "reshape" reshape_param { shape { dim: 0 dim: 2 dim: -1 } } }
            layer { name: "softmax" type: "Softmax" bottom: "reshape" top: "softmax" softmax_param { axis: 2 } }
            """);
        CaffeOnnxCheck.Randomize(net, new Generator(9));
        using var dir = new TempDirectory();
        string path = dir.File("misc.onnx");
        CaffeOnnxExport.Export(net, path);
        var outputs = CaffeOnnxCheck.AssertMatches(net, path, Input(new Generator(10), 2, 4, 5, 6), log, "misc");
        Assert.Equal(["gmax", "gave", "softmax"], outputs);
    }

    // One file, any batch: exported from a net of batch 2, run at 1 and 3 against nets of those batches (same weights).
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TheBatchSizeIsDynamic(int batch)
    {
        var exported = CaffeOnnxCheck.Build(CaffeExportNets.NormalizationBlock);
        CaffeOnnxCheck.Randomize(exported, new Generator(11));
        using var dir = new TempDirectory();
        string path = dir.File("block.onnx");
        CaffeOnnxExport.Export(exported, path);
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal("N", model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.All(model.Graph.Output, o => Assert.Equal("N", o.Type.TensorType.Shape.Dim[0].DimParam));
        var other = CaffeOnnxCheck.Build(CaffeExportNets.NormalizationBlock.Replace("dim: 2 dim: 3", $"dim: {batch} dim: 3"));
        CaffeOnnxCheck.Randomize(other, new Generator(11));
        CaffeOnnxCheck.AssertMatches(other, path, Input(new Generator(12), batch, 3, 9, 9), log, $"batch {batch}");
    }

    private static NetContext Context(Dictionary<string, Tensor> inputs)
    {
        var context = new NetContext(Phase.Test);
        foreach (var (name, value) in inputs) context.Inputs[name] = value;
        return context;
    }
}
