using Backprop.Nn;

namespace Backprop.Onnx;

/// <summary>
/// Writes a core <see cref="Module"/> network (<see cref="Sequential"/>, <see cref="Conv2d"/>, <see cref="Linear"/>,
/// pooling, activations, <see cref="BatchNorm2d"/>, <see cref="Dropout"/>, <see cref="Flatten"/>, and modules that
/// implement <see cref="IOnnxExportable"/>) as an ONNX model with a dynamic batch size. The model computes the
/// network's evaluation-mode function whatever its current mode: BatchNorm uses running statistics, Dropout is left
/// out. Initializers are named after the parameters (<c>features.0.weight</c>), nodes after the modules.
/// </summary>
public static class OnnxExporter
{
    /// <summary>
    /// Exports <paramref name="model"/> for inputs of shape (N, <paramref name="inputShape"/>...) — (C, H, W) for images —
    /// to <paramref name="path"/>, written atomically.
    /// </summary>
    /// <exception cref="OnnxExportException">A module cannot be exported; the message names its path and type.</exception>
    public static void Export(Module model, int[] inputShape, string path, OnnxExportOptions? options = null) =>
        BuildGraph(model, inputShape, options).Save(path);

    /// <summary>As <see cref="Export(Module, int[], string, OnnxExportOptions?)"/>, writing to <paramref name="stream"/> (left open).</summary>
    public static void Export(Module model, int[] inputShape, Stream stream, OnnxExportOptions? options = null) =>
        BuildGraph(model, inputShape, options).Write(stream);

    /// <summary>The graph of <paramref name="model"/>, ready to write or to extend (add outputs, inspect nodes).</summary>
    public static OnnxGraphBuilder BuildGraph(Module model, int[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"The input shape after the batch dimension must have positive dimensions, got ({string.Join(", ", inputShape)}).", nameof(inputShape));
        options ??= new OnnxExportOptions();
        var graph = new OnnxGraphBuilder(options.GraphName ?? model.GetType().Name, options.Opset);
        var input = new OnnxValue(graph.AddInput(options.InputName, inputShape), (int[])inputShape.Clone());
        var output = CoreModuleExport.Export(new OnnxExportContext(graph, model, ""), input);
        graph.AddOutput(output.Name, output.SampleShape, options.OutputName);
        return graph;
    }
}
