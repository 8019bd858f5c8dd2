using Backprop.Caffe;
using Backprop.Caffe.Layers;

namespace Backprop.Onnx;

/// <summary>
/// Writes a Caffe <see cref="CaffeNet"/> as an ONNX model computing its TEST-phase function (build the net in the TEST
/// phase, weights loaded), with a dynamic batch size. Layers are written in prototxt order:
/// <list type="bullet">
/// <item>Layers without bottoms (Input, Data, DummyData, ImageData, HDF5Data...) give the graph inputs, one per top that an
/// exported layer reads, named after the blob (<c>data</c>): a data layer's input is its top after transform_param (scale,
/// mean, crop). A label top that only loss and accuracy layers read is not an input.</item>
/// <item>Loss layers, Accuracy and Silence are left out; Dropout is the identity (as in TEST).</item>
/// <item>Outputs, named after their blobs: the ones asked for, or by default every top no layer reads plus every blob a
/// left-out layer reads — for a train/test net with <c>ip2 → SoftmaxWithLoss, Accuracy</c> that is <c>ip2</c>, the scores
/// before the loss; for a deploy net it is its last top (<c>prob</c>).</item>
/// </list>
/// Nodes are named after layers, initializers after the layer and blob: <c>conv1.weight</c>, <c>conv1.bias</c>,
/// <c>bn1.mean</c>, <c>bn1.variance</c>. A BatchNorm followed by a Scale over its channels becomes one BatchNormalization
/// node (the Scale's blobs as <c>scale1.weight</c>, <c>scale1.bias</c>).
/// </summary>
/// <example><code>
/// var net = CaffeNet.Build(NetUpgrade.ReadTextFile("deploy.prototxt"), new NetState { Phase = Phase.Test }, new Generator(0), new NetContext(Phase.Test));
/// net.CopyTrainedLayersFrom(Snapshots.ReadModel("net.caffemodel"), "net.caffemodel");
/// CaffeOnnxExport.Export(net, "net.onnx");
/// </code></example>
public static class CaffeOnnxExport
{
    /// <summary>Exports <paramref name="net"/> to <paramref name="path"/>, written atomically.</summary>
    /// <param name="net">A net built in the TEST phase.</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">The operator set (13 to 17) and graph name (default the net's name); the input and output
    /// names of <see cref="OnnxExportOptions"/> are not used: a Caffe net's are its blob names.</param>
    /// <param name="outputs">Blob names to make the outputs; null for the default (see the class summary).</param>
    /// <returns>The graph's inputs and outputs, with their shapes after the batch axis.</returns>
    /// <exception cref="OnnxExportException">A layer cannot be exported (the message names it and its type), or an output is not a blob the export computes.</exception>
    public static OnnxGraphSignature Export(CaffeNet net, string path, OnnxExportOptions? options = null, IReadOnlyList<string>? outputs = null)
    {
        var (graph, signature) = Build(net, options, outputs);
        graph.Save(path);
        return signature;
    }

    /// <summary>As <see cref="Export(CaffeNet, string, OnnxExportOptions?, IReadOnlyList{string}?)"/>, writing to <paramref name="stream"/> (left open).</summary>
    public static OnnxGraphSignature Export(CaffeNet net, Stream stream, OnnxExportOptions? options = null, IReadOnlyList<string>? outputs = null)
    {
        var (graph, signature) = Build(net, options, outputs);
        graph.Write(stream);
        return signature;
    }

    /// <summary>The graph of <paramref name="net"/>, ready to write or inspect.</summary>
    public static OnnxGraphBuilder BuildGraph(CaffeNet net, OnnxExportOptions? options = null, IReadOnlyList<string>? outputs = null) =>
        Build(net, options, outputs).Graph;

    private static (OnnxGraphBuilder Graph, OnnxGraphSignature Signature) Build(CaffeNet net, OnnxExportOptions? options, IReadOnlyList<string>? outputs)
    {
        ArgumentNullException.ThrowIfNull(net);
        options ??= new OnnxExportOptions();
        string name = options.GraphName ?? (net.Name.Length > 0 ? net.Name : "caffe_net");
        using var noGrad = Autograd.Autograd.NoGrad();
        var graph = new OnnxGraphBuilder(name, options.Opset);
        var walk = new CaffeNetWalk(net, graph, outputs);
        var misnamed = walk.Run();
        if (misnamed.Count > 0)
        {
            // Some output blob was rebound in place: walk again, naming the nodes that give the outputs after their blobs.
            graph = new OnnxGraphBuilder(name, options.Opset);
            walk = new CaffeNetWalk(net, graph, outputs, misnamed);
            walk.Run();
        }
        return (graph, new OnnxGraphSignature(walk.Inputs, walk.Outputs));
    }

    /// <summary>True for layers the export leaves out: losses, Accuracy and Silence.</summary>
    internal static bool IsLeftOut(CaffeLayer layer) => layer.IsLoss || layer.Type is "Accuracy" or "Silence";

    /// <summary>True for layers whose tops are data from outside the net (they have no bottoms and no learned blob).</summary>
    internal static bool IsDataLayer(CaffeLayer layer) => layer.Definition.Bottom.Count == 0 && layer is not ParameterLayer;
}

/// <summary>What an exported graph takes and gives: its inputs and outputs with their shapes after the dynamic batch axis.</summary>
public sealed record OnnxGraphSignature(IReadOnlyList<OnnxValue> Inputs, IReadOnlyList<OnnxValue> Outputs);
