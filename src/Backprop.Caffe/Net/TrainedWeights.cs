using Backprop.Caffe.Proto;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>How <see cref="CaffeNet.CopyTrainedLayersFrom(NetParameter, string, WeightLoading?)"/> reports and what it tolerates.</summary>
public sealed record WeightLoading
{
    /// <summary>Hears one line per layer copied or ignored (Caffe's log lines); null hears nothing.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Hears the warnings (learnable layers the file leaves out, allowed non-finite weights); null sends them to <see cref="Log"/>.</summary>
    public Action<string>? Warn { get; init; }

    internal void Warning(string line) => (Warn ?? Log)?.Invoke("Warning: " + line);

    /// <summary>Load NaN or infinite weights with a warning instead of refusing the file (CLI <c>--allow-nonfinite-weights</c>).</summary>
    public bool AllowNonFinite { get; init; }
}

/// <summary>
/// Caffe's CopyTrainedLayersFrom, checked: every blob of the file is validated (count, shape, finite values) before
/// any weight of the net changes, so a refused file leaves the net as it was.
/// </summary>
internal static class TrainedWeights
{
    /// <summary>Copies; returns how many layers with blobs got them.</summary>
    public static int Copy(CaffeNet net, NetParameter trained, string source, WeightLoading options)
    {
        trained = NetUpgrade.Upgraded(trained, source, options.Log);   // V0/V1 files, as Caffe's ReadNetParamsFromBinaryFileOrDie
        if (trained.Layer.Count == 0)
            throw new CaffeNetException($"{source}: the file holds no layers (it is empty, truncated, or not a .caffemodel).");
        var byName = net.LayersByName();

        // Check everything first, then copy: a refused file changes nothing.
        var pending = new List<(Parameter Target, float[] Values)>();
        var copiedLayers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in trained.Layer)
        {
            if (!byName.TryGetValue(t.Name, out var layer))
            {
                options.Log?.Invoke($"Ignoring source layer {t.Name}");
                continue;
            }
            if (t.Blobs.Count == 0 && layer.Blobs.Count > 0) continue;   // reported below as a layer that got nothing
            if (t.Blobs.Count != layer.Blobs.Count)
                throw new CaffeNetException($"{source}: layer '{t.Name}' has {t.Blobs.Count} blobs but the net's layer has {layer.Blobs.Count}.");
            if (t.Blobs.Count > 0 && !copiedLayers.Add(t.Name))
                throw new CaffeNetException($"{source}: layer '{t.Name}' appears twice in the file.");
            options.Log?.Invoke($"Copying source layer {t.Name}");
            for (int i = 0; i < t.Blobs.Count; i++)
            {
                string where = $"{source}: layer '{t.Name}' blob {i}";
                var values = BlobProtos.Values(t.Blobs[i], layer.Blobs[i].Shape, where);
                CheckFinite(values, where, options);
                pending.Add((layer.Blobs[i], values));
            }
        }
        foreach (var (target, values) in pending) values.CopyTo(target.AsSpan());

        // A blob shared with a copied layer was filled through it: only blobs nobody wrote are missing.
        var written = new HashSet<Parameter>(pending.Select(p => p.Target), ReferenceEqualityComparer.Instance);
        foreach (var layer in net.Layers)
            if (layer.Blobs.Count > 0 && !layer.Blobs.Any(written.Contains))
                options.Warning($"layer '{layer.Name}' (type {layer.Type}) got no weights from {source}; it keeps its initial values.");
        return copiedLayers.Count;
    }

    private static void CheckFinite(float[] values, string where, WeightLoading options)
    {
        int first = Array.FindIndex(values, v => !float.IsFinite(v));
        if (first < 0) return;
        int bad = values.Count(v => !float.IsFinite(v));
        string what = $"{where} has {bad} non-finite value{(bad == 1 ? "" : "s")} of {values.Length}; the first, at index {first}, is {Describe(values[first])}";
        if (!options.AllowNonFinite)
            throw new CaffeNetException($"{what}. The file is corrupt or the training diverged; to load it anyway pass --allow-nonfinite-weights (API: WeightLoading.AllowNonFinite).");
        options.Warning($"{what}; loaded anyway as asked.");
    }

    private static string Describe(float v) => float.IsNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
}
