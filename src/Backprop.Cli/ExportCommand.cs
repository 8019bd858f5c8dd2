using System.CommandLine;
using System.Globalization;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Onnx;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop export --model M.prototxt [--weights W.caffemodel] --output net.onnx [--opset 17] [--outputs a,b]</c>: writes a
/// Caffe net's TEST-phase function as an ONNX model with a dynamic batch size, and says what it wrote.
/// <c>backprop export --keras model.safetensors --output net.onnx</c> does the same for a saved Keras model (its input
/// stays channels-last, as Keras feeds it). <c>backprop export --detector model.safetensors --output net.onnx</c> exports a
/// detector saved by <c>detect train</c> (see <see cref="ExportDetector"/>).
/// </summary>
public static class ExportCommand
{
    internal static Command Create()
    {
        var model = CaffeArguments.Flag<FileInfo>("--model", "The Caffe net prototxt (deploy or train/test; exported in the TEST phase).");
        var weights = CaffeArguments.Flag<FileInfo?>("--weights", "The trained .caffemodel (without it, the prototxt's fillers give the weights).");
        var keras = CaffeArguments.Flag<FileInfo?>("--keras",
            "A saved Keras model (.safetensors from Save, .keras or .h5; Sequential or functional) to export instead of a Caffe net.");
        var output = CaffeArguments.Flag<FileInfo>("--output", "The .onnx file to write.");
        output.Required = true;
        var opset = CaffeArguments.Flag<int>("--opset", "The ONNX operator set: 13 to 17.");
        opset.DefaultValueFactory = _ => 17;
        var detector = CaffeArguments.Flag<FileInfo?>("--detector", "A detector saved by 'detect train' to export instead (one image per run; boxes, scores, labels).");
        var outputs = CaffeArguments.Flag<string?>("--outputs",
            "Blobs to make the model's outputs, separated by commas (default: the tops no layer reads, and what loss and accuracy layers read).");
        var allowNonFinite = WeightsArguments.AllowNonFinite();
        var command = new Command("export", "Export a trained Caffe net, a saved Keras model (dynamic batch size) or a saved detector to an ONNX model.")
        {
            model, weights, keras, output, opset, outputs, allowNonFinite, detector,
        };
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var names = r.GetValue(outputs)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (r.GetValue(detector) is { } detectorFile)
            {
                if (r.GetValue(model) is not null || r.GetValue(weights) is not null || r.GetValue(keras) is not null || names is not null)
                    throw new ArgumentException("--detector exports a saved detector on its own: leave out --model, --weights, --keras and --outputs.");
                return ExportDetector.Run(detectorFile.FullName, r.GetValue(output)!.FullName, r.GetValue(opset));
            }
            if (r.GetValue(keras) is { } kerasFile)
            {
                if (r.GetValue(model) is not null || r.GetValue(weights) is not null || names is not null)
                    throw new ArgumentException("--keras exports a saved Keras model on its own: leave out --model, --weights and --outputs.");
                return RunKeras(kerasFile.FullName, r.GetValue(output)!.FullName, r.GetValue(opset));
            }
            var modelFile = r.GetValue(model) ?? throw new ArgumentException("Give --model, the Caffe net prototxt to export, or --keras, a saved Keras model.");
            return Run(modelFile.FullName, r.GetValue(weights)?.FullName, r.GetValue(output)!.FullName, r.GetValue(opset), names,
                r.GetValue(allowNonFinite));
        }));
        return command;
    }

    /// <summary>Exports the net of <paramref name="modelPath"/> (TEST phase) with the weights of <paramref name="weightsPath"/> to <paramref name="outputPath"/>; returns 0.</summary>
    public static int Run(string modelPath, string? weightsPath, string outputPath, int opset = 17, IReadOnlyList<string>? outputs = null,
        bool allowNonFiniteWeights = false)
    {
        if (opset < 13 || opset > 17) throw new ArgumentException($"--opset must be 13 to 17, got {opset}.");
        var definition = NetUpgrade.ReadTextFile(modelPath);
        var context = new NetContext(Phase.Test) { BaseDirectory = modelPath };
        var net = CaffeNet.Build(definition, new NetState { Phase = Phase.Test }, new Generator(0), context);
        if (weightsPath is not null)
            net.CopyTrainedLayersFrom(Snapshots.ReadModel(weightsPath), weightsPath, WeightsArguments.ToConsole(allowNonFiniteWeights));
        else
            Console.Error.WriteLine($"Note: no --weights given; the weights are the fillers' values from {modelPath}.");
        var signature = CaffeOnnxExport.Export(net, outputPath, new OnnxExportOptions { Opset = opset }, outputs);
        double megabytes = new FileInfo(outputPath).Length / (1024.0 * 1024.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {outputPath}: ONNX opset {opset}, {megabytes:F1} MB, {net.Parameters.Sum(p => (long)p.Length):N0} parameters."));
        foreach (var input in signature.Inputs) Console.WriteLine($"  input  {Describe(input)}");
        foreach (var result in signature.Outputs) Console.WriteLine($"  output {Describe(result)}");
        return 0;
    }

    /// <summary>Exports the saved Keras model at <paramref name="modelPath"/> to <paramref name="outputPath"/>; returns 0.</summary>
    public static int RunKeras(string modelPath, string outputPath, int opset = 17)
    {
        if (opset < 13 || opset > 17) throw new ArgumentException($"--opset must be 13 to 17, got {opset}.");
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"No saved Keras model at '{modelPath}'.", modelPath);
        var graph = KerasOnnxExport.BuildGraph(modelPath, new OnnxExportOptions { Opset = opset });
        graph.Save(outputPath);
        double megabytes = new FileInfo(outputPath).Length / (1024.0 * 1024.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {outputPath}: ONNX opset {opset}, {megabytes:F1} MB, from the Keras model {modelPath}."));
        foreach (var input in graph.Inputs) Console.WriteLine($"  input  {DescribeDeclared(input)}");
        foreach (var result in graph.Outputs) Console.WriteLine($"  output {DescribeDeclared(result)}");
        return 0;
    }

    private static string DescribeDeclared(Backprop.Onnx.Proto.ValueInfoProto value) =>
        $"{value.Name} ({string.Join(", ", value.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(CultureInfo.InvariantCulture)))})";

    private static string Describe(OnnxValue value) => $"{value.Name} (N, {string.Join(", ", value.SampleShape)})";
}
