using Backprop.Keras;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Adds the nodes and initializers of one Keras layer, named after it: the layer's main node takes the layer's name
/// (<c>conv2d</c>), helper nodes a suffix (<c>conv2d.relu</c>), initializers the weights file's names (<c>conv2d.weight</c>).
/// </summary>
internal sealed class KerasNodeWriter(OnnxGraphBuilder graph, Layer layer)
{
    public Layer Layer { get; } = layer;

    /// <summary>A node named <c>layer.localName</c> (the layer's name alone when <paramref name="localName"/> is empty).</summary>
    public OnnxValue Node(string opType, string localName, IReadOnlyList<string> inputs, int[] outputSampleShape, params AttributeProto[] attributes) =>
        new(graph.AddNode(opType, Join(localName), inputs, attributes), outputSampleShape);

    /// <summary>A float initializer named <c>layer.localName</c>, its values read from <paramref name="tensor"/> when written.</summary>
    public string Initializer(string localName, Tensor tensor) => graph.AddInitializer(Join(localName), tensor);

    /// <summary>An int64 initializer (pads, shapes) named <c>layer.localName</c>.</summary>
    public string Int64Initializer(string localName, IReadOnlyList<long> values) => graph.AddInt64Initializer(Join(localName), values);

    /// <summary>An <see cref="OnnxExportException"/> naming the Keras layer and its class, for the caller to throw.</summary>
    public OnnxExportException Unsupported(string problem) => new(Layer.Name, Layer.ClassName, problem);

    private string Join(string localName) => localName.Length == 0 ? Layer.Name : Layer.Name + "." + localName;
}
