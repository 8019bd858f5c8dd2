using PureHDF;

namespace Backprop.Keras.Files;

/// <summary>
/// The two HDF5 weight layouts Keras uses, each layer's weights in Keras's order and layout (<see cref="Layer.GetWeights"/>).
/// Keras 3 (<c>model.weights.h5</c> in a <c>.keras</c> zip, and <c>.weights.h5</c>): an empty group <c>vars</c> for the
/// model itself and <c>layers/&lt;key&gt;/vars/0</c>, <c>1</c>, ... per layer, the key being the layer's class in snake
/// case numbered per class (<c>conv2d</c>, <c>conv2d_1</c>, <c>dense</c>), not its name; the InputLayer is not listed.
/// Keras 2 (legacy <c>.h5</c>): attribute <c>layer_names</c> on the weights group, one group per layer named as the
/// layer with attribute <c>weight_names</c> (<c>conv2d/kernel:0</c>, ...) and each weight at that path inside it.
/// Keras 2 matches layers with weights by order, not by name, and so does this reader.
/// </summary>
internal static class KerasWeights
{
    /// <summary>A Sequential's layers as Keras lists them in its files (its InputLayer left out).</summary>
    public static IReadOnlyList<Layer> Stacked(Sequential model) => [.. model.Layers.Where(l => l is not InputLayer)];

    /// <summary>Keras 3's weights file for <paramref name="model"/>.</summary>
    public static H5File WriteKeras3(IReadOnlyList<Layer> model)
    {
        var layers = new H5Group();
        foreach (var (layer, key) in Keys(model))
        {
            var vars = new H5Group();
            var weights = layer.GetWeights();
            for (int i = 0; i < weights.Count; i++) vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = KerasHdf5.Dataset(weights[i]);
            layers[key] = new H5Group { ["vars"] = vars };
        }
        return new H5File { ["layers"] = layers, ["vars"] = new H5Group() };
    }

    /// <summary>Keras 3's container keys: snake-cased class names, the second of a class <c>_1</c>, and so on.</summary>
    private static IEnumerable<(Layer Layer, string Key)> Keys(IReadOnlyList<Layer> model)
    {
        var used = new Dictionary<string, int>();
        foreach (var layer in model)
        {
            string key = Sequential.SnakeCase(layer.ClassName);
            if (used.TryGetValue(key, out int n)) { used[key] = n + 1; key = $"{key}_{n + 1}"; }
            else used[key] = 0;
            yield return (layer, key);
        }
    }

    /// <summary>Loads Keras 3's layout into <paramref name="model"/>; every layer with weights must find all of them.</summary>
    public static void ReadKeras3(KerasHdf5 h5, IReadOnlyList<Layer> model)
    {
        // Files from Keras 2.13's saving library name the container _layer_checkpoint_dependencies.
        var root = h5.TryGroup(h5.Root, "layers") ?? h5.TryGroup(h5.Root, "_layer_checkpoint_dependencies")
            ?? throw new InvalidDataException($"{h5.Where}: no 'layers' group: not a Keras 3 weights file (the weights are missing).");
        foreach (var (layer, key) in Keys(model))
        {
            int count = layer.GetWeights().Count;
            if (count == 0) continue;
            string what = $"layer '{layer.Name}' ({layer.ClassName})";
            var vars = h5.TryGroup(root, key + "/vars")
                ?? throw new InvalidDataException($"{h5.Where}: {what}: its weights 'layers/{key}/vars' are missing.");
            int stored = h5.Names(vars).Count;
            if (stored != count) throw new InvalidDataException($"{h5.Where}: {what} has {count} weight tensors, but 'layers/{key}/vars' holds {stored}.");
            var weights = Enumerable.Range(0, count).Select(i => h5.ReadTensor(vars, i.ToString(System.Globalization.CultureInfo.InvariantCulture), what)).ToList();
            Set(h5.Where, layer, weights);
        }
    }

    /// <summary>Keras 2's names for a layer's weights, in <see cref="Layer.GetWeights"/>'s order.</summary>
    private static string[] WeightNames(Layer layer, int count)
    {
        string[] known = layer.ClassName switch
        {
            "BatchNormalization" => ["gamma", "beta", "moving_mean", "moving_variance"],
            "DepthwiseConv2D" => ["depthwise_kernel", "bias"],
            "SeparableConv2D" => ["depthwise_kernel", "pointwise_kernel", "bias"],
            _ => ["kernel", "bias"],
        };
        return [.. Enumerable.Range(0, count).Select(i => $"{layer.Name}/{(i < known.Length ? known[i] : "weight" + i)}:0")];
    }

    /// <summary>Fills <paramref name="target"/> (the file root for save_weights, <c>model_weights</c> for a whole model) with Keras 2's layout.</summary>
    public static void WriteLegacy(H5Group target, IReadOnlyList<Layer> model)
    {
        var layers = model;
        target.Attributes["layer_names"] = layers.Select(l => l.Name).ToArray();
        target.Attributes["backend"] = "tensorflow";
        target.Attributes["keras_version"] = KerasModelConfig.Keras2Version;
        foreach (var layer in layers)
        {
            var weights = layer.GetWeights();
            string[] names = WeightNames(layer, weights.Count);
            var group = new H5Group { Attributes = new Dictionary<string, object> { ["weight_names"] = names } };
            for (int i = 0; i < names.Length; i++)
            {
                string[] parts = names[i].Split('/');
                var at = group;
                foreach (string part in parts[..^1])
                {
                    if (!at.TryGetValue(part, out object? next)) at[part] = next = new H5Group();
                    at = (H5Group)next;
                }
                at[parts[^1]] = KerasHdf5.Dataset(weights[i]);
            }
            target[layer.Name] = group;
        }
    }

    /// <summary>Loads Keras 2's layout from <paramref name="group"/>: the n-th stored layer with weights goes to the n-th model layer with weights.</summary>
    public static void ReadLegacy(KerasHdf5 h5, IH5Group group, IReadOnlyList<Layer> model)
    {
        var names = h5.StringListAttribute(group, "layer_names")
            ?? throw new InvalidDataException($"{h5.Where}: no 'layer_names' attribute: not a Keras weights file (the weights are missing).");
        var stored = new List<(string Layer, IH5Group Group, List<string> Weights)>();
        foreach (string name in names)
        {
            var layerGroup = h5.TryGroup(group, name) ?? throw new InvalidDataException($"{h5.Where}: layer '{name}' is listed but its weights group is missing.");
            var weightNames = h5.StringListAttribute(layerGroup, "weight_names") ?? [];
            if (weightNames.Count > 0) stored.Add((name, layerGroup, weightNames));
        }
        var mine = model.Where(l => l.GetWeights().Count > 0).ToList();
        if (stored.Count != mine.Count)
            throw new InvalidDataException($"{h5.Where}: the file holds weights for {stored.Count} layers ({string.Join(", ", stored.Select(s => s.Layer))}), but the model has {mine.Count} layers with weights ({string.Join(", ", mine.Select(l => l.Name))}).");
        for (int i = 0; i < mine.Count; i++)
        {
            var (layerName, layerGroup, weightNames) = stored[i];
            string what = $"layer '{layerName}' (for {mine[i].ClassName} '{mine[i].Name}')";
            Set(h5.Where, mine[i], [.. weightNames.Select(w => h5.ReadTensor(layerGroup, w, what))]);
        }
    }

    /// <summary>Loads weights in whichever Keras layout the HDF5 data holds: Keras 3's, legacy whole-model, legacy save_weights.</summary>
    public static void Read(KerasHdf5 h5, IReadOnlyList<Layer> layers)
    {
        if (h5.TryGroup(h5.Root, "layers") is not null || h5.TryGroup(h5.Root, "_layer_checkpoint_dependencies") is not null)
            ReadKeras3(h5, layers);
        else if (h5.TryGroup(h5.Root, "model_weights") is { } legacy) ReadLegacy(h5, legacy, layers);
        else if (h5.StringListAttribute(h5.Root, "layer_names") is not null) ReadLegacy(h5, h5.Root, layers);
        else throw new InvalidDataException($"{h5.Where}: no Keras weights found (neither a 'layers' group, a 'model_weights' group nor a 'layer_names' attribute); the weights are missing.");
    }

    private static void Set(string where, Layer layer, IReadOnlyList<Tensor> weights)
    {
        try { layer.SetWeights(weights); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
    }
}
