using Backprop.Keras;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Writes a Keras-style model (<see cref="Sequential"/> or a functional <see cref="Model"/>) as an ONNX model with a
/// dynamic batch size that computes what <c>Predict</c> computes. The graph's input and output are in Keras's order,
/// (N, height, width, channels) for images, so an ONNX user feeds the array a Keras user feeds. Inside, the graph runs
/// channels-first as Backprop does: one Transpose after the input, and one before the output when it is still an image;
/// <see cref="Backprop.Keras.Flatten"/> transposes back to channels-last before flattening, as the layer itself does,
/// so Dense kernels line up. Nodes are named after the Keras layers (<c>conv2d</c>, then <c>conv2d.relu</c> for a fused
/// activation); initializers carry the names of the model's weights file (<see cref="Sequential.SaveWeights"/>):
/// <c>conv2d.weight</c> in the core's (out, in, kh, kw) layout, <c>dense.bias</c>,
/// <c>batch_normalization.running_mean</c>, <c>separable_conv2d.depthwise.weight</c>.
/// Dropout is left out and BatchNormalization uses its moving statistics (Predict's evaluation mode).
/// </summary>
public static class KerasOnnxExport
{
    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> (written atomically).</summary>
    /// <exception cref="OnnxExportException">A layer cannot be exported; the message names the Keras layer and its class.</exception>
    public static void Export(Sequential model, string path, OnnxExportOptions? options = null) => BuildGraph(model, options).Save(path);

    /// <summary>Exports the functional <paramref name="model"/> to <paramref name="path"/> (written atomically).</summary>
    /// <exception cref="OnnxExportException">A layer cannot be exported; the message names the Keras layer and its class.</exception>
    public static void Export(Model model, string path, OnnxExportOptions? options = null) => BuildGraph(model, options).Save(path);

    /// <summary>
    /// Loads the saved model at <paramref name="modelPath"/> (what <see cref="Sequential.Load"/> and
    /// <see cref="Model.Load"/> read: Backprop's safetensors model file, a <c>.keras</c> or <c>.h5</c> file, Sequential
    /// or functional) and exports it to <paramref name="path"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a saved model, or is corrupt (the message names it).</exception>
    /// <exception cref="OnnxExportException">A layer cannot be exported.</exception>
    public static void Export(string modelPath, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        BuildGraph(modelPath, options).Save(path);
    }

    /// <summary>The graph of the saved model at <paramref name="modelPath"/> (as <see cref="Export(string, string, OnnxExportOptions?)"/> loads it), ready to write or inspect.</summary>
    public static OnnxGraphBuilder BuildGraph(string modelPath, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return Model.IsFunctionalFile(modelPath) ? BuildGraph(Model.Load(modelPath), options) : BuildGraph(Sequential.Load(modelPath), options);
    }

    /// <summary>As <see cref="Export(Sequential, string, OnnxExportOptions?)"/>, writing to <paramref name="stream"/> (left open).</summary>
    public static void Export(Sequential model, Stream stream, OnnxExportOptions? options = null) => BuildGraph(model, options).Write(stream);

    /// <summary>As <see cref="Export(Model, string, OnnxExportOptions?)"/>, writing to <paramref name="stream"/> (left open).</summary>
    public static void Export(Model model, Stream stream, OnnxExportOptions? options = null) => BuildGraph(model, options).Write(stream);

    /// <summary>The graph of <paramref name="model"/>, ready to write or inspect.</summary>
    public static OnnxGraphBuilder BuildGraph(Sequential model, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Layers.Count == 0) throw new OnnxExportException($"Keras model '{model.Name}' has no layers to export.");
        options ??= new OnnxExportOptions();
        var graph = new OnnxGraphBuilder(options.GraphName ?? model.Name, options.Opset);
        var x = ChannelsFirstInput(graph, model.InputShape, options.InputName);
        foreach (var layer in model.Layers) x = KerasLayerExport.Export(graph, layer, [x]);
        ChannelsLastOutput(graph, x, model.OutputShape, options.OutputName);
        return graph;
    }

    /// <summary>The graph of the functional <paramref name="model"/>, ready to write or inspect.</summary>
    public static OnnxGraphBuilder BuildGraph(Model model, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        var graph = new OnnxGraphBuilder(options.GraphName ?? model.Name, options.Opset);
        var producers = Producers(model.Outputs);
        var values = new Dictionary<KerasTensor, OnnxValue>(ReferenceEqualityComparer.Instance)
        {
            [model.Inputs] = ChannelsFirstInput(graph, model.InputShape, options.InputName),
        };
        // Layers come in call order, which runs every tensor after the tensors it is computed from.
        foreach (var layer in model.Layers)
        {
            if (!producers.TryGetValue(layer, out var tensor) || values.ContainsKey(tensor)) continue;
            values[tensor] = KerasLayerExport.Export(graph, layer, [.. tensor.Inbound.Select(t => values[t])]);
        }
        ChannelsLastOutput(graph, values[model.Outputs], model.OutputShape, options.OutputName);
        return graph;
    }

    /// <summary>Each layer the output depends on, with the tensor it produced (a layer is applied once in a functional model).</summary>
    private static Dictionary<Layer, KerasTensor> Producers(KerasTensor output)
    {
        var producers = new Dictionary<Layer, KerasTensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<KerasTensor>([output]);
        while (stack.TryPop(out var t))
            if (producers.TryAdd(t.Layer, t))
                foreach (var inbound in t.Inbound) stack.Push(inbound);
        return producers;
    }

    // Keras's (N, H, W, C) in, the core's (N, C, H, W) inside; other ranks pass as they are, as in Predict.
    private static OnnxValue ChannelsFirstInput(OnnxGraphBuilder graph, KerasShape shape, string inputName)
    {
        int[] dims = shape.ToArray();
        string input = graph.AddInput(inputName, dims);
        if (dims.Length != 3) return new OnnxValue(input, dims);
        return new OnnxValue(graph.AddNode("Transpose", "to_channels_first", [input], Ints("perm", 0, 3, 1, 2)), [dims[2], dims[0], dims[1]]);
    }

    private static void ChannelsLastOutput(OnnxGraphBuilder graph, OnnxValue y, KerasShape shape, string outputName)
    {
        string name = y.SampleShape.Length == 3 ? graph.AddNode("Transpose", "to_channels_last", [y.Name], Ints("perm", 0, 2, 3, 1)) : y.Name;
        graph.AddOutput(name, shape.ToArray(), outputName);
    }
}
