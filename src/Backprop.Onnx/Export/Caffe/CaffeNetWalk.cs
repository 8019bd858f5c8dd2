using Backprop.Caffe;

namespace Backprop.Onnx;

/// <summary>
/// One pass over a Caffe net's layers in order, keeping for each blob name the graph value it holds now (in-place layers
/// rebind a name), whether an exported layer computed it, and whether anything read it; then the graph's outputs.
/// An output is named after its blob, but a blob rebound in place (<c>fc7</c> by relu7) is first the value of an earlier
/// node named after its layer (<c>fc7</c>): a first walk finds which nodes give the outputs, and a second walk with
/// <paramref name="outputNodes"/> names those nodes after their blobs and moves the earlier nodes aside (<c>fc7_0</c>).
/// </summary>
internal sealed class CaffeNetWalk(CaffeNet net, OnnxGraphBuilder graph, IReadOnlyList<string>? requestedOutputs,
    IReadOnlyDictionary<string, string>? outputNodes = null)
{
    /// <summary>A blob's current value; null with <see cref="Missing"/> saying why (a label, a loss's top).</summary>
    private sealed class Blob(OnnxValue? value, bool computed, string missing = "")
    {
        public OnnxValue? Value { get; } = value;
        public bool Computed { get; } = computed;
        public string Missing { get; } = missing;
        public bool Read { get; set; }
    }

    private readonly Dictionary<string, Blob> blobs = new(StringComparer.Ordinal);
    private readonly List<(string Name, Blob Blob)> produced = [];
    private readonly List<(string Name, Blob Blob)> leftOutInputs = [];
    private readonly List<OnnxValue> inputs = [];
    private readonly List<OnnxValue> outputs = [];
    private readonly Dictionary<string, string> hints = new(StringComparer.Ordinal);
    private readonly HashSet<string> outputBlobs = outputNodes is null ? [] : new(outputNodes.Values, StringComparer.Ordinal);

    /// <summary>The graph inputs added, in order.</summary>
    public IReadOnlyList<OnnxValue> Inputs => inputs;

    /// <summary>The graph outputs added, in order, under their final names.</summary>
    public IReadOnlyList<OnnxValue> Outputs => outputs;

    /// <summary>
    /// Writes the layers and the outputs; returns, for outputs whose value is not named after its blob, the node name
    /// each was meant to have and the blob's name (empty when every output is named right): the second walk's input.
    /// </summary>
    public IReadOnlyDictionary<string, string> Run()
    {
        var layers = net.Layers;
        var neededData = DataTopsReadByExportedLayers();
        bool anyInput = false;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var (bottoms, tops) = net.Connections(i);
            if (CaffeOnnxExport.IsDataLayer(layer))
            {
                foreach (string top in tops)
                {
                    bool input = neededData.Contains(top) || !anyInput && neededData.Count == 0;
                    blobs[top] = input ? new Blob(AddInput(top), computed: false)
                        : new Blob(null, false, $"the top '{top}' of data layer '{layer.Name}', which only left-out (loss, accuracy) layers read");
                    anyInput |= input;
                }
                continue;
            }
            if (CaffeOnnxExport.IsLeftOut(layer))
            {
                foreach (string bottom in bottoms)
                    if (blobs.TryGetValue(bottom, out var read) && read.Computed)
                    {
                        read.Read = true;
                        leftOutInputs.Add((bottom, read));
                    }
                foreach (string top in tops)
                    blobs[top] = new Blob(null, false, $"the top '{top}' of {layer.Type} layer '{layer.Name}', which the export leaves out");
                continue;
            }
            var inputs = new OnnxValue[bottoms.Count];
            for (int b = 0; b < bottoms.Count; b++)
            {
                var blob = blobs[bottoms[b]];
                if (blob.Value is not OnnxValue value)
                    throw new OnnxExportException(layer.Name, layer.Type, $"its bottom '{bottoms[b]}' is {blob.Missing}.");
                blob.Read = true;
                inputs[b] = value;
            }
            var context = new CaffeLayerContext(graph, layer, inputs, NodeName);
            IReadOnlyList<OnnxValue> results;
            if (layer.Type == "BatchNorm" && FoldableScale(i) is { } scale)
            {
                results = [CaffeNormalizationExport.BatchNorm(context, scale)];
                tops = net.Connections(++i).Tops;
            }
            else results = CaffeLayerExport.Export(context);
            for (int t = 0; t < tops.Count; t++)
            {
                var blob = new Blob(results[t], computed: true);
                blobs[tops[t]] = blob;
                produced.Add((tops[t], blob));
            }
        }
        return AddOutputs();
    }

    private string NodeName(string hint)
    {
        string name = outputNodes is not null && outputNodes.TryGetValue(hint, out var blob) ? blob
            : outputBlobs.Contains(hint) ? hint + "_0" : hint;
        hints[name] = hint;
        return name;
    }

    private OnnxValue AddInput(string top)
    {
        var shape = net.BlobShapes[top].ToArray();
        if (shape.Length == 0) throw new OnnxExportException($"Cannot export net '{net.Name}' to ONNX: input blob '{top}' is a scalar, it has no batch axis.");
        int[] sample = shape[1..];
        var input = new OnnxValue(graph.AddInput(top, sample), sample);
        inputs.Add(input);
        return input;
    }

    // Names bound to a data layer's top until an exported layer rebinds them; those an exported layer reads become inputs.
    private HashSet<string> DataTopsReadByExportedLayers()
    {
        var data = new HashSet<string>(StringComparer.Ordinal);
        var needed = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var (bottoms, tops) = net.Connections(i);
            if (CaffeOnnxExport.IsDataLayer(net.Layers[i]))
            {
                data.UnionWith(tops);
                continue;
            }
            if (!CaffeOnnxExport.IsLeftOut(net.Layers[i])) needed.UnionWith(bottoms.Where(data.Contains));
            data.ExceptWith(tops);
        }
        return needed;
    }

    // A Scale right after BatchNorm, over its channels, reading its top when nothing else does: folded into one node.
    private CaffeLayer? FoldableScale(int i)
    {
        if (i + 1 >= net.Layers.Count) return null;
        var next = net.Layers[i + 1];
        string top = net.Connections(i).Tops[0];
        var (nextBottoms, nextTops) = net.Connections(i + 1);
        if (next.Type != "Scale" || nextBottoms.Count != 1 || nextBottoms[0] != top || !CaffeNormalizationExport.FoldsIntoBatchNorm(next, net.BlobShapes[top]))
            return null;
        if (nextTops[0] == top) return next;
        // Not in place: BatchNorm's own top must stay unread and not be asked for.
        if (requestedOutputs?.Contains(top) == true) return null;
        for (int j = i + 2; j < net.Layers.Count; j++)
        {
            var (bottoms, tops) = net.Connections(j);
            if (bottoms.Contains(top)) return null;
            if (tops.Contains(top)) break;
        }
        return next;
    }

    private IReadOnlyDictionary<string, string> AddOutputs()
    {
        var chosen = new List<(string Name, OnnxValue Value)>();
        if (requestedOutputs is not null)
        {
            foreach (string name in requestedOutputs.Distinct())
            {
                if (!blobs.TryGetValue(name, out var blob))
                    throw new OnnxExportException($"Cannot export output '{name}' of net '{net.Name}': there is no such blob. Blobs: {string.Join(", ", blobs.Keys)}.");
                if (blob.Value is not OnnxValue value)
                    throw new OnnxExportException($"Cannot export output '{name}' of net '{net.Name}': it is {blob.Missing}.");
                chosen.Add((name, value));
            }
        }
        else
        {
            foreach (var (name, blob) in leftOutInputs) chosen.Add((name, blob.Value!.Value));
            foreach (var (name, blob) in produced)
                if (!blob.Read && ReferenceEquals(blobs[name], blob)) chosen.Add((name, blob.Value!.Value));
            chosen = chosen.DistinctBy(o => o.Name).ToList();
        }
        if (chosen.Count == 0)
            throw new OnnxExportException($"Cannot export net '{net.Name}' to ONNX: no exported layer computes an output (name the outputs to export).");
        var misnamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in chosen)
        {
            if (value.Name != name && hints.TryGetValue(value.Name, out string? hint)) misnamed.TryAdd(hint, name);
            outputs.Add(value with { Name = graph.AddOutput(value.Name, value.SampleShape, name) });
        }
        return misnamed;
    }
}
