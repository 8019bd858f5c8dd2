using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Keras;
using Backprop.Tests.IO;
using Backprop.Tests.Onnx.Export;
using Xunit.Abstractions;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop export</c> run as a process: a Caffe net with trained weights becomes an ONNX file ONNX Runtime agrees with.</summary>
public sealed class ExportCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    // A deploy prototxt and a .caffemodel whose weights differ from the prototxt's fillers (drawn with another seed).
    private (string Model, string Weights, CaffeNet Trained) DeployWithWeights()
    {
        string prototxt = CaffeExportNets.LeNetDeploy(2);
        string model = dir.File("lenet_deploy.prototxt");
        File.WriteAllText(model, prototxt);
        var trained = CaffeOnnxCheck.Build(prototxt, seed: 42);
        CaffeOnnxCheck.Randomize(trained, new Generator(43));
        string weights = dir.File("lenet.caffemodel");
        Snapshots.WriteModel(weights, trained.ToProto(Prototxt.Parse<NetParameter>(prototxt)));
        return (model, weights, trained);
    }

    [Fact]
    public void ExportWritesTheTrainedNetAndSaysWhatItWrote()
    {
        var (model, weights, trained) = DeployWithWeights();
        string output = dir.File("lenet.onnx");
        using var run = new CliProcess("export", "--model", model, "--weights", weights, "--output", output, "--opset", "13");
        Assert.Equal(0, run.WaitForExit());
        Assert.Contains($"Wrote {output}: ONNX opset 13,", run.Output);
        Assert.Contains("431,080 parameters", run.Output);
        Assert.Contains("  input  data (N, 1, 28, 28)", run.Output);
        Assert.Contains("  output prob (N, 10)", run.Output);
        // The file holds the .caffemodel's weights, not the fillers'.
        CaffeOnnxCheck.AssertMatches(trained, output, new Dictionary<string, Tensor> { ["data"] = Tensor.Randn(new Generator(5), 2, 1, 28, 28) }, log, "CLI");
    }

    [Fact]
    public void OutputsCanBeNamedAndCaffesFlagSpellingsWork()
    {
        var (model, weights, _) = DeployWithWeights();
        string output = dir.File("features.onnx");
        using var run = new CliProcess("export", "-model", model, "-weights", weights, "-output", output, "--outputs", "ip1, prob");
        Assert.Equal(0, run.WaitForExit());
        Assert.Contains("  output ip1 (N, 500)", run.Output);
        Assert.Contains("  output prob (N, 10)", run.Output);
        var onnx = Backprop.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        Assert.Equal(["ip1", "prob"], onnx.Graph.Output.Select(o => o.Name));
        Assert.Equal(17, onnx.OpsetImport.Single().Version);
    }

    [Fact]
    public void ALayerThatCannotBeExportedIsOneErrorLineNamingIt()
    {
        string model = dir.File("tile.prototxt");
        File.WriteAllText(model, """
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
            layer { name: "tile" type: "Tile" bottom: "data" top: "tile" tile_param { tiles: 2 } }
            """);
        string output = dir.File("tile.onnx");
        using var run = new CliProcess("export", "--model", model, "--output", output);
        Assert.Equal(1, run.WaitForExit());
        Assert.Contains("error: Cannot export 'tile' (Tile) to ONNX: there is no ONNX export for Caffe's Tile layer", run.Output);
        Assert.DoesNotContain("   at ", run.Output);
        Assert.False(File.Exists(output));

        using var badOpset = new CliProcess("export", "--model", model, "--output", output, "--opset", "12");
        Assert.Equal(1, badOpset.WaitForExit());
        Assert.Contains("error: --opset must be 13 to 17, got 12.", badOpset.Output);
    }
    [Fact]
    public void KerasSequentialSavedAsSafetensorsExportsAndOnnxRuntimeAgrees()
    {
        var model = new Backprop.Keras.Sequential(seed: 3,
            new Conv2D(4, (3, 3), inputShape: (10, 10, 3), activation: "relu"), new MaxPooling2D((2, 2)),
            new Backprop.Keras.Flatten(), new Dense(1, activation: "sigmoid"));
        string saved = dir.File("keras.safetensors"), output = dir.File("keras.onnx");
        model.Save(saved);
        using var run = new CliProcess("export", "--keras", saved, "--output", output);
        Assert.Equal(0, run.WaitForExit());
        Assert.Contains($"Wrote {output}: ONNX opset 17,", run.Output);
        Assert.Contains("(N, 10, 10, 3)", run.Output);   // channels-last in, as Keras feeds it
        var x = Tensor.Randn(new Generator(8), 2, 10, 10, 3);
        KerasExportCheck.AssertClose(model.Predict(x), OnnxRuntimeCheck.Run(output, x), log, "CLI Keras Sequential");
    }

    [Fact]
    public void KerasFunctionalModelSavedAsKerasFileExports()
    {
        var inputs = new Input((8, 8, 3), seed: 4);
        var a = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(inputs);
        var sum = new Add().Apply(a, new Conv2D(4, 3, padding: "same").Apply(a));
        var model = new Model(inputs, new Dense(2).Apply(new Backprop.Keras.Flatten().Apply(sum)));
        string saved = dir.File("functional.keras"), output = dir.File("functional.onnx");
        model.Save(saved);
        using var run = new CliProcess("export", "--keras", saved, "--output", output, "--opset", "13");
        Assert.Equal(0, run.WaitForExit());
        var x = Tensor.Randn(new Generator(9), 3, 8, 8, 3);
        KerasExportCheck.AssertClose(model.Predict(x), OnnxRuntimeCheck.Run(output, x), log, "CLI Keras functional");
    }

    [Fact]
    public void KerasAndCaffeArgumentsTogetherAreRefused()
    {
        var (model, _, _) = DeployWithWeights();
        string output = dir.File("both.onnx");
        using var run = new CliProcess("export", "--keras", dir.File("missing.keras"), "--model", model, "--output", output);
        Assert.Equal(1, run.WaitForExit());
        Assert.Contains("--keras exports a saved Keras model on its own", run.Output);
        Assert.False(File.Exists(output));
    }
}
