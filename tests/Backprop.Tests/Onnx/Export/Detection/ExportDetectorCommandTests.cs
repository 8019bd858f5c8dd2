using Backprop.Detection;
using Backprop.Onnx;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export.Detection;

/// <summary><c>backprop export --detector</c> run as a process: a saved detector becomes an ONNX file that detects as it does.</summary>
public sealed class ExportDetectorCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void ASavedDetectorExportsAndSaysWhatTheModelTakesAndGives()
    {
        string saved = dir.File("detector.safetensors"), output = dir.File("detector.onnx");
        DetectorFile.Save(DetectionOnnxCheck.Model(11), saved);
        using var run = new CliProcess("export", "--detector", saved, "--output", output, "--opset", "16");
        Assert.Equal(0, run.WaitForExit());
        Assert.Contains($"Wrote {output}: ONNX opset 16,", run.Output);
        Assert.Contains("small Faster R-CNN for 4 classes (circle, square, triangle, cross)", run.Output);
        Assert.Contains("  input  images (1, 3, height, width) float", run.Output);
        Assert.Contains("  output boxes (detections, 4) float", run.Output);
        Assert.Contains("  output labels (detections) int64", run.Output);
        Assert.Contains("longer side is 128 pixels", run.Output);
        var loaded = DetectorFile.Load(saved);
        DetectionOnnxCheck.AssertDetectionsMatch(loaded, File.ReadAllBytes(output), DetectionOnnxCheck.Image(8), log, "CLI");
    }

    [Fact]
    public void AFileThatIsNotADetectorIsAClearError()
    {
        string notDetector = dir.File("weights.safetensors");
        Backprop.IO.SafeTensors.Write(notDetector, new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(2) });
        using var run = new CliProcess("export", "--detector", notDetector, "--output", dir.File("x.onnx"));
        Assert.Equal(1, run.WaitForExit());
        Assert.Contains($"error: {notDetector} is not a Backprop detector", run.Output);
        Assert.False(File.Exists(dir.File("x.onnx")));

        using var mixed = new CliProcess("export", "--detector", notDetector, "--keras", notDetector, "--output", dir.File("x.onnx"));
        Assert.Equal(1, mixed.WaitForExit());
        Assert.Contains("--detector exports a saved detector on its own", mixed.Output);
    }
}
