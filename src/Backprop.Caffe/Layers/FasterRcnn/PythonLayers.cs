using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's <c>Python</c> layer type: Backprop runs no Python, but implements py-faster-rcnn's Python layers natively,
/// chosen by python_param's module and layer. Any other module is refused, naming it.
/// </summary>
public static class PythonLayers
{
    private static readonly Dictionary<string, Func<LayerParameter, CaffeLayer>> Known = new(StringComparer.Ordinal)
    {
        ["roi_data_layer.layer.RoIDataLayer"] = p => new RoiDataLayer(p),
        ["rpn.anchor_target_layer.AnchorTargetLayer"] = p => new AnchorTargetLayer(p),
        ["rpn.proposal_layer.ProposalLayer"] = p => new ProposalLayer(p),
        ["rpn.proposal_target_layer.ProposalTargetLayer"] = p => new ProposalTargetLayer(p),
    };

    /// <summary>The Python layers implemented, as module.Layer.</summary>
    public static IReadOnlyCollection<string> KnownLayers => Known.Keys;

    /// <summary>The layer that python_param names.</summary>
    /// <exception cref="CaffeNetException">python_param is missing or names a module and layer not implemented.</exception>
    public static CaffeLayer Create(LayerParameter definition)
    {
        string where = $"Layer '{definition.Name}' (type Python)";
        var p = definition.PythonParam ?? throw new CaffeNetException($"{where} has no python_param; it needs module and layer.");
        if (Known.TryGetValue($"{p.Module}.{p.Layer}", out var create)) return create(definition);
        throw new CaffeNetException(
            $"{where} names Python module '{p.Module}' layer '{p.Layer}', which Backprop cannot run (it runs no Python). " +
            $"It implements these Python layers natively: {string.Join(", ", Known.Keys)}.");
    }
}
