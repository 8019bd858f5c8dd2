using Backprop.Caffe;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// One Caffe layer being written as ONNX nodes: its bottoms as graph values, and helpers that name nodes and initializers
/// after the layer (<c>conv1</c> for the node giving the layer's output, <c>conv1.pad</c> for a helper node before it,
/// <c>conv1.weight</c> for a blob). Shapes are kept without the batch axis, which stays dynamic: a Caffe axis a is sample
/// axis a − 1, and a layer that would act on axis 0 cannot be exported.
/// </summary>
internal sealed class CaffeLayerContext(OnnxGraphBuilder graph, CaffeLayer layer, IReadOnlyList<OnnxValue> bottoms, Func<string, string> nodeName)
{
    public OnnxGraphBuilder Graph => graph;

    public CaffeLayer Layer => layer;

    public IReadOnlyList<OnnxValue> Bottoms => bottoms;

    /// <summary>The first bottom.</summary>
    public OnnxValue X => bottoms[0];

    /// <summary>A node named after the layer (<paramref name="localName"/> "") or <c>layer.localName</c>; the net walk may give it an output blob's name instead.</summary>
    public OnnxValue Node(string opType, string localName, IReadOnlyList<string> inputs, int[] sampleShape, params AttributeProto[] attributes) =>
        new(graph.AddNode(opType, nodeName(Join(localName)), inputs, attributes), sampleShape);

    /// <summary>A node with one output per entry of <paramref name="sampleShapes"/> (Split, TopK), named as <see cref="Node"/>.</summary>
    public IReadOnlyList<OnnxValue> Nodes(string opType, string localName, IReadOnlyList<string> inputs, IReadOnlyList<int[]> sampleShapes,
        params AttributeProto[] attributes)
    {
        var names = graph.AddNode(opType, nodeName(Join(localName)), inputs, sampleShapes.Count, attributes);
        return names.Select((name, i) => new OnnxValue(name, sampleShapes[i])).ToArray();
    }

    /// <summary>A node of one input that keeps its shape (activations).</summary>
    public OnnxValue Unary(string opType, OnnxValue x, string localName = "", params AttributeProto[] attributes) =>
        Node(opType, localName, [x.Name], x.SampleShape, attributes);

    /// <summary>x ∘ c for a constant c (Mul, Add, Pow...), named <c>layer.localName</c>.</summary>
    public OnnxValue WithConstant(string opType, OnnxValue x, float c, string localName, string nodeName = "") =>
        Node(opType, nodeName, [x.Name, Constant(localName, c)], x.SampleShape);

    /// <summary>A blob (or a tensor made from blobs) as the initializer <c>layer.localName</c>.</summary>
    public string Initializer(string localName, Tensor tensor) => graph.AddInitializer(Join(localName), tensor);

    /// <summary>A scalar initializer, broadcast by the node that reads it.</summary>
    public string Constant(string localName, float value) => graph.AddInitializer(Join(localName), Tensor.Scalar(value));

    /// <summary>An int64 initializer (shapes, pads).</summary>
    public string Int64s(string localName, params long[] values) => graph.AddInt64Initializer(Join(localName), values);

    /// <summary>An error naming this layer and its type, for the caller to throw.</summary>
    public OnnxExportException Unsupported(string problem) => new(layer.Name, layer.Type, problem);

    /// <summary>
    /// Caffe's axis <paramref name="axis"/> (negative counts from the end) of a blob of <paramref name="x"/>'s rank as a
    /// whole-tensor axis; the batch axis is refused because the exported batch size is dynamic.
    /// </summary>
    public int Axis(int axis, OnnxValue x, string what)
    {
        int rank = x.Rank;
        if (axis < -rank || axis >= rank)
            throw Unsupported($"{what} {axis} is outside its rank-{rank} bottom {Describe(x)}.");
        int canonical = axis < 0 ? axis + rank : axis;
        if (canonical == 0)
            throw Unsupported($"{what} {axis} is the batch axis; the exported model's batch size is dynamic, so a layer may not act across it.");
        return canonical;
    }

    /// <summary>The bottom's shape as text, batch first: <c>(N, 20, 12, 12)</c>.</summary>
    public static string Describe(OnnxValue x) => OnnxExportContext.Describe(x.SampleShape);

    private string Join(string localName) => localName.Length == 0 ? layer.Name : layer.Name + "." + localName;
}
