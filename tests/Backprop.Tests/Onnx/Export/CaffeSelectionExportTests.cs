using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Onnx;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>
/// Slice, Crop, Threshold, ArgMax, MVN, Parameter and STOCHASTIC pooling exported from Caffe nets compute in ONNX Runtime
/// what Backprop's TEST phase computes (within 1e-4 relative).
/// </summary>
public class CaffeSelectionExportTests(ITestOutputHelper log)
{
    private const string Input = """layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 6 dim: 5 dim: 7 } } }""";

    private IReadOnlyList<string> ExportAndCheck(string layers, string what, Tensor? input = null, string? header = null)
    {
        var net = CaffeOnnxCheck.Build((header ?? Input) + "\n" + layers);
        CaffeOnnxCheck.Randomize(net, new Generator(21));
        using var dir = new TempDirectory();
        string path = dir.File("net.onnx");
        CaffeOnnxExport.Export(net, path);
        var shape = net.BlobShapes["data"].ToArray();
        return CaffeOnnxCheck.AssertMatches(net, path, new Dictionary<string, Tensor> { ["data"] = input ?? Tensor.Randn(new Generator(22), shape) }, log, what);
    }

    [Fact]
    public void SliceBySlicePointsEqualPiecesAndSliceDimRunsInOnnxRuntime()
    {
        var outputs = ExportAndCheck("""
            layer { name: "points" type: "Slice" bottom: "data" top: "a" top: "b" top: "c" slice_param { axis: 1 slice_point: 1 slice_point: 4 } }
            layer { name: "equal" type: "Slice" bottom: "data" top: "left" top: "right" slice_param { axis: -1 slice_point: 3 } }
            layer { name: "legacy" type: "Slice" bottom: "data" top: "t0" top: "t1" top: "t2" top: "t3" top: "t4" slice_param { slice_dim: 2 } }
            layer { name: "halves" type: "Slice" bottom: "data" top: "h0" top: "h1" }
            """, "slice");
        Assert.Equal(["a", "b", "c", "left", "right", "t0", "t1", "t2", "t3", "t4", "h0", "h1"], outputs);
    }

    [Fact]
    public void CropToTheReferenceBottomWithOffsetsRunsInOnnxRuntime()
    {
        var outputs = ExportAndCheck("""
            layer { name: "small" type: "Pooling" bottom: "data" top: "small" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
            layer { name: "crop" type: "Crop" bottom: "data" bottom: "small" top: "crop" crop_param { offset: 1 offset: 2 } }
            layer { name: "narrow" type: "Convolution" bottom: "data" top: "narrow" convolution_param { num_output: 3 kernel_size: 3 } }
            layer { name: "crop1" type: "Crop" bottom: "data" bottom: "narrow" top: "crop1" crop_param { axis: 1 offset: 2 } }
            layer { name: "same" type: "Crop" bottom: "small" bottom: "small" top: "same" }
            """, "crop");
        Assert.Equal(["crop", "crop1", "same"], outputs);
    }

    [Fact]
    public void ThresholdGivesOnesAndZerosInOnnxRuntime()
    {
        var x = Tensor.Randn(new Generator(23), 2, 6, 5, 7);
        x.AsSpan()[0] = 0.25f;   // exactly at the threshold: not above it, 0
        var outputs = ExportAndCheck("""
            layer { name: "thr" type: "Threshold" bottom: "data" top: "thr" threshold_param { threshold: 0.25 } }
            layer { name: "zero" type: "Threshold" bottom: "data" top: "zero" }
            """, "threshold", x);
        Assert.Equal(["thr", "zero"], outputs);
    }

    // ReLU first: the zeros tie, and Caffe gives the larger index first among equal values.
    [Theory]
    [InlineData("top_k: 3")]
    [InlineData("top_k: 4 out_max_val: true")]
    [InlineData("axis: 1 top_k: 2")]
    [InlineData("axis: 2 top_k: 3 out_max_val: true")]
    [InlineData("axis: -1")]
    public void ArgMaxRunsInOnnxRuntimeWithCaffesTieOrder(string options)
    {
        var outputs = ExportAndCheck($$"""
            layer { name: "relu" type: "ReLU" bottom: "data" top: "relu" }
            layer { name: "argmax" type: "ArgMax" bottom: "relu" top: "argmax" argmax_param { {{options}} } }
            """, $"ArgMax {options}", null, """layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 2 } } }""");
        Assert.Equal(["argmax"], outputs);
    }

    [Theory]
    [InlineData("")]
    [InlineData("out_max_val: true")]
    public void ArgMaxOfARank2BottomGivesThreeAxes(string options)
    {
        var outputs = ExportAndCheck($$"""layer { name: "argmax" type: "ArgMax" bottom: "data" top: "argmax" argmax_param { top_k: 2 {{options}} } }""",
            $"ArgMax rank 2 {options}", null, """layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 3 dim: 10 } } }""");
        Assert.Equal(["argmax"], outputs);
    }

    [Fact]
    public void ArgMaxOverTheBatchAxisIsRefusedNamingTheOption()
    {
        var net = CaffeOnnxCheck.Build(Input + """
            layer { name: "argmax" type: "ArgMax" bottom: "data" top: "argmax" argmax_param { axis: 0 } }
            """);
        var e = Assert.Throws<OnnxExportException>(() => CaffeOnnxExport.Export(net, new MemoryStream()));
        Assert.Equal("argmax", e.LayerPath);
        Assert.Contains("axis 0 is the batch axis", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("across_channels: true")]
    [InlineData("normalize_variance: false")]
    [InlineData("normalize_variance: false across_channels: true")]
    [InlineData("eps: 0.5")]
    public void MvnRunsInOnnxRuntime(string options)
    {
        var outputs = ExportAndCheck($$"""layer { name: "mvn" type: "MVN" bottom: "data" top: "mvn" mvn_param { {{options}} } }""", $"MVN {options}");
        Assert.Equal(["mvn"], outputs);
    }

    // Caffe adds eps to the deviation: with eps 1 and rows of deviation ~1, √(var + eps) would differ by ~30%.
    [Fact]
    public void MvnAddsEpsToTheDeviationNotTheVariance()
    {
        var net = CaffeOnnxCheck.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 1 dim: 2 } } }
            layer { name: "mvn" type: "MVN" bottom: "data" top: "mvn" mvn_param { eps: 1 } }
            """);
        using var dir = new TempDirectory();
        string path = dir.File("mvn.onnx");
        CaffeOnnxExport.Export(net, path);
        // x = (−1, 1): mean 0, deviation 1, so y = x / 2 (not x / √2).
        CaffeOnnxCheck.AssertMatches(net, path, new Dictionary<string, Tensor> { ["data"] = Tensor.FromArray([-1f, 1f], [1, 1, 1, 2]) }, log, "MVN eps");
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.FromArray([-1f, 1f], [1, 1, 1, 2]);
        Assert.Equal([-0.5f, 0.5f], net.Forward(context).Blobs["mvn"].ToArray());
    }

    [Fact]
    public void MvnOfARank2BottomPerChannelRunsInOnnxRuntime()
    {
        var outputs = ExportAndCheck("""layer { name: "mvn" type: "MVN" bottom: "data" top: "mvn" mvn_param { eps: 0.1 } }""", "MVN rank 2",
            null, """layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 3 dim: 4 } } }""");
        Assert.Equal(["mvn"], outputs);
    }

    [Fact]
    public void ParameterBlobIsAnInitializerNamedAfterTheLayer()
    {
        var net = CaffeOnnxCheck.Build(Input + """
            layer { name: "offset" type: "Parameter" top: "offset" parameter_param { shape { dim: 2 dim: 6 dim: 5 dim: 7 } } }
            layer { name: "sum" type: "Eltwise" bottom: "data" bottom: "offset" top: "sum" }
            """);
        CaffeOnnxCheck.Randomize(net, new Generator(24));
        using var dir = new TempDirectory();
        string path = dir.File("param.onnx");
        CaffeOnnxExport.Export(net, path);
        var model = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(["data"], model.Graph.Input.Select(i => i.Name));
        Assert.Equal([2L, 6, 5, 7], model.Graph.Initializer.Single(i => i.Name == "offset").Dims);
        var outputs = CaffeOnnxCheck.AssertMatches(net, path, new Dictionary<string, Tensor> { ["data"] = Tensor.Randn(new Generator(25), 2, 6, 5, 7) }, log, "Parameter");
        Assert.Equal(["sum"], outputs);
    }

    // Caffe's sizes (rounded up, the last window cut at the edge), global pooling, and after ReLU windows of zeros, which give 0.
    [Theory]
    [InlineData("kernel_size: 3 stride: 2")]
    [InlineData("kernel_size: 2 stride: 2")]
    [InlineData("kernel_h: 2 kernel_w: 3 stride_h: 1 stride_w: 2")]
    [InlineData("kernel_size: 3 stride: 2 round_mode: FLOOR")]
    [InlineData("global_pooling: true")]
    public void StochasticPoolingAtTestTimeRunsInOnnxRuntime(string options)
    {
        var x = Tensor.Randn(new Generator(26), 2, 6, 5, 7);
        var span = x.AsSpan();
        for (int i = 0; i < 7 * 2; i++) span[i] = 0;   // the first two rows of a plane: a whole 2x2 window is 0
        var outputs = ExportAndCheck($$"""
            layer { name: "relu" type: "ReLU" bottom: "data" top: "relu" }
            layer { name: "pool" type: "Pooling" bottom: "relu" top: "pool" pooling_param { pool: STOCHASTIC {{options}} } }
            """, $"STOCHASTIC {options}", x);
        Assert.Equal(["pool"], outputs);
    }
}
