using Backprop.Cli;
using Backprop.IO;

namespace Backprop.Tests.Onnx.Import;

/// <summary><c>backprop import</c> saves the imported weights under their ONNX names; <c>backprop summary</c> lists an .onnx graph.</summary>
[Collection("ConsoleOutput")]
public sealed class OnnxCommandLineTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string Captured(Action run)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try { run(); }
        finally { Console.SetOut(previous); }
        return output.ToString();
    }

    [Fact]
    public void Import_writes_safetensors_that_load_back_into_the_module()
    {
        string onnx = OnnxImportFixtures.Model("resnet"), output = Path.Combine(directory, "resnet.safetensors");
        string printed = Captured(() => Assert.Equal(0, ImportCommand.Run(onnx, output)));
        Assert.Contains("-> " + output, printed);
        var saved = SafeTensors.Read(output);
        Assert.Contains("layer1.conv1.weight", saved.Keys);
        Assert.Contains("stem.1.running_var", saved.Keys);
        var module = Backprop.Onnx.Import.OnnxImporter.Import(onnx);
        Assert.Equal(module.StateDict()["fc.weight"].ToArray(), saved["fc.weight"].ToArray());
        module.StateDict()["fc.weight"].AsSpan().Clear();
        module.Load(output);
        Assert.Equal(saved["fc.weight"].ToArray(), module.StateDict()["fc.weight"].ToArray());
    }

    [Fact]
    public void Summary_of_an_onnx_file_lists_nodes_shapes_and_parameters()
    {
        string printed = Captured(() => Assert.Equal(0, SummaryCommand.Run(OnnxImportFixtures.Model("lenet"))));
        Assert.Contains("/conv1/Conv", printed);
        Assert.Contains("(1, 4, 24, 24)", printed);   // the declared dynamic batch runs as 1
        Assert.Contains("104", printed);               // conv1: 4·1·5·5 + 4
        Assert.Contains("Total params: 5,370", printed);
    }

    [Fact]
    public void Summary_lists_the_steps_inference_fuses()
    {
        string printed = Captured(() => Assert.Equal(0, SummaryCommand.Run(OnnxImportFixtures.Model("resnet"))));
        Assert.Contains("runs 7 steps for these 22 nodes, 4 of them fused", printed);
        Assert.Contains("/layer1/conv1/Conv  Conv+BatchNormalization+Relu+Conv+BatchNormalization+Add+Relu", printed);
        string lenet = Captured(() => Assert.Equal(0, SummaryCommand.Run(OnnxImportFixtures.Model("lenet"))));
        Assert.Contains("/conv1/Conv  Conv+Relu", lenet);   // no BatchNorm: the ReLU alone joins its convolution
    }

    [Fact]
    public void Summary_runs_the_shape_arithmetic_of_a_dynamic_batch()
    {
        string printed = Captured(() => Assert.Equal(0, SummaryCommand.Run(OnnxImportFixtures.Model("lenet_view"))));
        Assert.Contains("Shape", printed);
        Assert.Contains("(1, 128)", printed);   // Reshape to (batch, -1) at the declared batch run as 1
        Assert.Contains("Total params: 5,370", printed);
    }
}
