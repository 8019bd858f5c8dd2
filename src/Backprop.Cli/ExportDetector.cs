using System.Globalization;
using Backprop.Detection;
using Backprop.Onnx;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop export --detector model.safetensors --output net.onnx</c>: a Faster R-CNN saved by <c>detect train</c> as one
/// ONNX model that detects in one image (see <see cref="FasterRcnnOnnxExport"/>), and what it takes and gives.
/// </summary>
public static class ExportDetector
{
    /// <summary>Exports the detector at <paramref name="detectorPath"/> to <paramref name="outputPath"/>; returns 0.</summary>
    public static int Run(string detectorPath, string outputPath, int opset = 17)
    {
        if (opset < 13 || opset > 17) throw new ArgumentException($"--opset must be 13 to 17, got {opset}.");
        if (!File.Exists(detectorPath)) throw new FileNotFoundException($"No saved detector at '{detectorPath}'.", detectorPath);
        var model = DetectorFile.Load(detectorPath);
        var graph = FasterRcnnOnnxExport.BuildGraph(model, new FasterRcnnOnnxExportOptions { Opset = opset });
        graph.Save(outputPath);
        var config = model.Config!;
        double megabytes = new FileInfo(outputPath).Length / (1024.0 * 1024.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {outputPath}: ONNX opset {opset}, {megabytes:F1} MB, a {config.Backbone} Faster R-CNN for {config.Classes.Count} classes ({string.Join(", ", config.Classes)})."));
        foreach (var input in graph.Inputs) Console.WriteLine($"  input  {Describe(input)}");
        foreach (var result in graph.Outputs) Console.WriteLine($"  output {Describe(result)}");
        if (config.ImageSize > 0)
            Console.WriteLine($"  Scale images so their longer side is {config.ImageSize} pixels (as 'detect run' does), RGB in [0, 1]; labels 1..{config.Classes.Count} are the classes in that order.");
        return 0;
    }

    private static string Describe(Backprop.Onnx.Proto.ValueInfoProto value) =>
        $"{value.Name} ({string.Join(", ", value.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(CultureInfo.InvariantCulture)))})"
        + (value.Type.TensorType.ElemType == (int)Backprop.Onnx.Proto.TensorProto.Types.DataType.Int64 ? " int64" : " float");
}
