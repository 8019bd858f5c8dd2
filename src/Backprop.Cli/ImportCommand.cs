using System.CommandLine;
using Backprop.Onnx.Import;

namespace Backprop.Cli;

/// <summary><c>backprop import net.onnx --output model.safetensors</c>: an ONNX CNN's weights in the file format core modules save.</summary>
public static class ImportCommand
{
    internal static Command Create()
    {
        var onnx = new Argument<FileInfo>("model") { Description = "The .onnx file (a CNN of the operators Backprop imports)." };
        var output = new Option<FileInfo>("--output") { Description = "Where to write the weights (.safetensors, parameter names as the ONNX initializers).", Required = true };
        var command = new Command("import", "Import an ONNX CNN and save its weights as safetensors (the format Module.Save writes).") { onnx, output };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(onnx)!.FullName, r.GetValue(output)!.FullName)));
        return command;
    }

    /// <summary>Imports <paramref name="onnxPath"/> and saves its parameters and buffers to <paramref name="outputPath"/>.</summary>
    public static int Run(string onnxPath, string outputPath)
    {
        var module = OnnxImporter.Import(onnxPath);
        module.Save(outputPath);
        Console.WriteLine($"{onnxPath}: {module.Nodes.Count} nodes, {module.Parameters().Count()} parameter tensors ({module.ParameterCount()} values), " +
            $"{module.NamedBuffers().Count()} buffers -> {outputPath}");
        return 0;
    }
}
