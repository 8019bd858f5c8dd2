using System.Globalization;
using System.Text;
using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Viz;

/// <summary>Options of <see cref="NetDiagram"/>.</summary>
public sealed record NetDiagramOptions
{
    /// <summary>Graphviz rankdir: "LR" (Caffe's draw_net default), "TB", "BT" or "RL".</summary>
    public string RankDir { get; init; } = "LR";

    /// <summary>Draw only the layers of this phase (as draw_net --phase); null draws every layer.</summary>
    public Phase? Phase { get; init; }

    /// <summary>Blob shapes (a built net's <see cref="CaffeNet.BlobShapes"/>) to show in the blob nodes; optional.</summary>
    public IReadOnlyDictionary<string, Shape>? BlobShapes { get; init; }
}

/// <summary>
/// Caffe's <c>draw_net.py</c> as Graphviz DOT: every layer a filled record box labelled with its name, type and
/// key parameters (kernel, stride, pad, num_output, pooling method), coloured by type as Caffe colours them;
/// every blob a gray octagon; edges bottom blob → layer → top blob, labelled with num_output or the batch size
/// where Caffe labels them. An in-place layer (top named as its bottom, as ReLU usually is) is drawn as Caffe
/// draws it: one blob node with an edge into the layer and one back out of it.
/// </summary>
public static class NetDiagram
{
    public static string ToDot(NetParameter net, NetDiagramOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        options ??= new NetDiagramOptions();
        string rankdir = options.RankDir.ToUpperInvariant();
        if (rankdir is not ("LR" or "TB" or "BT" or "RL"))
            throw new ArgumentException($"rankdir must be LR, TB, BT or RL, got '{options.RankDir}'.");
        var layers = net.Layer.Where(l => options.Phase is not Phase p || NetStateFilter.Includes(l, new NetState { Phase = p })).ToList();

        var sb = new StringBuilder();
        sb.Append("digraph ").Append(Quote(net.Name.Length > 0 ? net.Name : "net")).AppendLine(" {");
        sb.AppendLine($"  graph [rankdir={rankdir}];");
        sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=11];");
        var blobs = new List<string>();
        var edges = new List<string>();
        var blobIds = new Dictionary<string, string>(StringComparer.Ordinal);
        string BlobId(string blob)
        {
            if (!blobIds.TryGetValue(blob, out var id))
            {
                blobIds[blob] = id = "blob_" + blobIds.Count.ToString(CultureInfo.InvariantCulture);
                string label = blob;
                if (options.BlobShapes is not null && options.BlobShapes.TryGetValue(blob, out var shape)) label += "\n" + shape;
                blobs.Add($"  {id} [label={Quote(label)}, shape=octagon, style=filled, fillcolor=\"#E0E0E0\"];");
            }
            return id;
        }
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string id = "layer_" + i.ToString(CultureInfo.InvariantCulture);
            sb.AppendLine($"  {id} [label={Quote(LayerLabel(layer))}, shape=record, style=filled, fillcolor=\"{LayerColor(layer.Type)}\"];");
            foreach (var bottom in layer.Bottom) edges.Add($"  {BlobId(bottom)} -> {id};");
            string? edgeLabel = EdgeLabel(layer);
            foreach (var top in layer.Top)
                edges.Add(edgeLabel is null ? $"  {id} -> {BlobId(top)};" : $"  {id} -> {BlobId(top)} [label={Quote(edgeLabel)}];");
        }
        foreach (var b in blobs) sb.AppendLine(b);
        foreach (var e in edges) sb.AppendLine(e);
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>Caffe's layer label: name, (type), then the parameters that define its shape.</summary>
    public static string LayerLabel(LayerParameter layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var lines = new List<string> { layer.Name, $"({layer.Type})" };
        if (layer.Type is "Convolution" or "Deconvolution" && layer.ConvolutionParam is { } c)
        {
            lines.Add($"kernel size: {Dims(c.KernelSize, c.HasKernelH ? c.KernelH : null, c.HasKernelW ? c.KernelW : null, 0)}");
            lines.Add($"stride: {Dims(c.Stride, c.HasStrideH ? c.StrideH : null, c.HasStrideW ? c.StrideW : null, 1)}");
            lines.Add($"pad: {Dims(c.Pad, c.HasPadH ? c.PadH : null, c.HasPadW ? c.PadW : null, 0)}");
            if (c.Group > 1) lines.Add($"group: {c.Group}");
        }
        else if (layer.Type == "Pooling" && layer.PoolingParam is { } p)
        {
            lines.Add($"pool: {p.Pool.ToString().ToUpperInvariant()}");
            if (p.GlobalPooling) lines.Add("global");
            else
            {
                lines.Add($"kernel size: {(p.HasKernelH ? $"{p.KernelH}x{p.KernelW}" : p.KernelSize.ToString(CultureInfo.InvariantCulture))}");
                lines.Add($"stride: {(p.HasStrideH ? $"{p.StrideH}x{p.StrideW}" : p.Stride.ToString(CultureInfo.InvariantCulture))}");
                lines.Add($"pad: {(p.HasPadH ? $"{p.PadH}x{p.PadW}" : p.Pad.ToString(CultureInfo.InvariantCulture))}");
            }
        }
        else if (layer.Type == "InnerProduct" && layer.InnerProductParam is { } ip)
            lines.Add($"num_output: {ip.NumOutput}");
        else if (layer.Type == "Dropout" && layer.DropoutParam is { } d)
            lines.Add($"ratio: {d.DropoutRatio.ToString("G6", CultureInfo.InvariantCulture)}");
        if (layer.Param.Any(s => s.HasLrMult && s.LrMult == 0)) lines.Add("frozen (lr_mult 0)");
        foreach (var rule in layer.Include) if (rule.HasPhase) lines.Add($"phase: {rule.Phase.ToString().ToUpperInvariant()}");
        return string.Join("\n", lines);
    }

    private static string Dims(IList<uint> values, uint? h, uint? w, uint fallback)
    {
        if (h is not null || w is not null) return $"{h ?? fallback}x{w ?? fallback}";
        if (values.Count == 0) return fallback.ToString(CultureInfo.InvariantCulture);
        return string.Join("x", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
    }

    // draw.py's get_edge_label: the batch size out of data layers, num_output out of convolution and inner product.
    private static string? EdgeLabel(LayerParameter layer) => layer.Type switch
    {
        "Data" when layer.DataParam is { } d => $"Batch {d.BatchSize}",
        "ImageData" when layer.ImageDataParam is { } d => $"Batch {d.BatchSize}",
        "Convolution" or "Deconvolution" when layer.ConvolutionParam is { } c => c.NumOutput.ToString(CultureInfo.InvariantCulture),
        "InnerProduct" when layer.InnerProductParam is { } ip => ip.NumOutput.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    // draw.py's choose_color_by_layertype.
    private static string LayerColor(string type) => type switch
    {
        "Convolution" or "Deconvolution" => "#FF5050",
        "Pooling" => "#FF9900",
        "InnerProduct" => "#CC33FF",
        _ => "#6495ED",
    };

    /// <summary>A DOT string literal: quotes and backslashes escaped, line breaks as <c>\n</c>.</summary>
    internal static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
