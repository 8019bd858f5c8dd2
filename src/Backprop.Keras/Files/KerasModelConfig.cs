using System.Text.Json.Nodes;

namespace Backprop.Keras.Files;

/// <summary>
/// Translates between Backprop's layer configs (<see cref="LayerConfig"/>) and the model configs Keras writes:
/// Keras 3's serialization (<c>{"module": "keras.layers", "class_name": "Conv2D", "config": {...},
/// "build_config": {"input_shape": [null, ...]}}</c>, initializers as objects) and Keras 2's (no module, first layer
/// or InputLayer with <c>batch_input_shape</c>). Reading accepts both and refuses settings Backprop cannot honour
/// (channels_first, dilation, groups, a batch normalization axis other than the last) with the setting's name.
/// </summary>
internal static class KerasModelConfig
{
    /// <summary>The Keras version whose layouts the files written follow.</summary>
    public const string Keras3Version = "3.3.3", Keras2Version = "2.15.0";

    /// <summary>The architecture as Keras 3 (<paramref name="keras3"/>) or Keras 2 serializes a Sequential.</summary>
    public static JsonObject Write(Sequential model, bool keras3)
    {
        var list = new JsonArray();
        var first = model.Layers[0];
        var input = first.InputShape;
        string inputName = first is InputLayer ? first.Name : keras3 ? "input_layer" : first.Name + "_input";
        var batchShape = Batch(input);
        list.Add(Entry("InputLayer", new JsonObject
        {
            [keras3 ? "batch_shape" : "batch_input_shape"] = batchShape,
            ["dtype"] = "float32",
            ["sparse"] = false,
            ["name"] = inputName,
        }, keras3, null));
        foreach (var layer in model.Layers.Where(l => l is not InputLayer))
            list.Add(Entry(layer.ClassName, LayerSettings(layer, keras3), keras3, layer.InputShape));
        var config = new JsonObject { ["name"] = model.Name, ["trainable"] = true, ["dtype"] = "float32", ["layers"] = list };
        var root = Entry("Sequential", config, keras3, input);
        if (keras3) root["module"] = "keras";
        return root;
    }

    internal static JsonObject Entry(string cls, JsonObject config, bool keras3, KerasShape? buildInput)
    {
        var entry = new JsonObject();
        if (keras3) entry["module"] = "keras.layers";
        entry["class_name"] = cls;
        entry["config"] = config;
        if (!keras3) return entry;
        entry["registered_name"] = null;
        if (buildInput is not null) entry["build_config"] = new JsonObject { ["input_shape"] = Batch(buildInput) };
        return entry;
    }

    internal static JsonArray Batch(KerasShape shape) => new([null, .. shape.ToArray().Select(d => (JsonNode)d)]);

    internal static JsonObject LayerSettings(Layer layer, bool keras3)
    {
        var config = layer.GetConfig();
        config.Remove("input_shape");   // the InputLayer entry carries it
        config["dtype"] = "float32";
        foreach (string key in config.Select(p => p.Key).Where(k => k.EndsWith("_initializer", StringComparison.Ordinal)).ToList())
            config[key] = Initializer(config[key]!.GetValue<string>(), keras3);
        if (layer is Conv2D or Pooling2D or Flatten or GlobalAveragePooling2D) config["data_format"] = "channels_last";
        if (layer is Conv2D)
        {
            config["dilation_rate"] = new JsonArray(1, 1);
            config["groups"] = 1;
        }
        if (layer is BatchNormalization) { config["axis"] = -1; config["center"] = true; config["scale"] = true; }
        return config;
    }

    private static JsonObject Initializer(string name, bool keras3)
    {
        string cls = string.Concat(name.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        var config = name switch
        {
            "random_normal" => new JsonObject { ["mean"] = 0.0, ["stddev"] = 0.05, ["seed"] = null },
            "random_uniform" => new JsonObject { ["minval"] = -0.05, ["maxval"] = 0.05, ["seed"] = null },
            "zeros" or "ones" => [],
            _ => new JsonObject { ["seed"] = null },
        };
        var entry = new JsonObject();
        if (keras3) entry["module"] = "keras.initializers";
        entry["class_name"] = cls;
        entry["config"] = config;
        if (keras3) entry["registered_name"] = null;
        return entry;
    }

    /// <summary>
    /// Rebuilds the layers of a Keras model config (Keras 2 or 3) into <paramref name="model"/>. Errors name the
    /// layer; the caller adds the file.
    /// </summary>
    public static void Read(JsonNode? root, Sequential model)
    {
        var obj = root as JsonObject ?? throw new InvalidDataException("the model config is not a JSON object");
        string cls = Text(obj["class_name"]) ?? throw new InvalidDataException("the model config has no class_name");
        if (cls != "Sequential")
            throw new InvalidDataException(KerasFunctionalConfig.IsFunctional(obj)
                ? $"the model is a Keras functional ('{cls}') model; load it with Model.Load"
                : $"the model is a Keras '{cls}' model; Backprop reads Sequential and functional models");
        var list = (obj["config"] as JsonObject)?["layers"] as JsonArray ?? throw new InvalidDataException("the model config has no layers list");
        for (int i = 0; i < list.Count; i++)
        {
            var entry = list[i] as JsonObject ?? throw new InvalidDataException($"layer {i} is not a JSON object");
            string layerClass = Text(entry["class_name"]) ?? throw new InvalidDataException($"layer {i} has no class_name");
            try
            {
                var normalized = Normalize(entry, layerClass, firstLayer: model.Layers.Count == 0);
                var layer = LayerConfig.Read(normalized);
                model.Add(layer);
                if (layer is BatchNormalization) CheckAxis(normalized["config"]!["axis"], layer.InputShape.Rank);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                string name = Text((entry["config"] as JsonObject)?["name"]) ?? "?";
                throw new InvalidDataException($"layer {i} '{name}' ({layerClass}): {e.Message}", e);
            }
        }
        if (model.Layers.Count == 0) throw new InvalidDataException("the model config lists no layers");
    }

    internal static JsonObject Normalize(JsonObject entry, string cls, bool firstLayer)
    {
        var source = entry["config"] as JsonObject ?? throw new InvalidDataException("no config object");
        var c = (JsonObject)source.DeepClone();
        if ((c["batch_input_shape"] ?? c["batch_shape"]) is JsonArray batch) c["input_shape"] = WithoutBatch(batch);
        else if (firstLayer && c["input_shape"] is null && (entry["build_config"] as JsonObject)?["input_shape"] is JsonArray built)
            c["input_shape"] = WithoutBatch(built);
        if (Text(c["data_format"]) is string format && format != "channels_last")
            throw new InvalidDataException($"data_format '{format}' is not supported (Backprop reads channels_last models)");
        Refuse(c, "dilation_rate", 1, "dilated convolutions are not supported");
        if (c["groups"] is JsonValue g && g.GetValue<int>() != 1) throw new InvalidDataException("grouped convolutions (groups > 1) are not supported");
        if (cls == "BatchNormalization" && (c["center"] is JsonValue center && !center.GetValue<bool>() || c["scale"] is JsonValue scale && !scale.GetValue<bool>()))
            throw new InvalidDataException("center=False or scale=False is not supported");
        if (cls is "MaxPooling2D" or "AveragePooling2D" && c["strides"] is null) c["strides"] = c["pool_size"]?.DeepClone();
        foreach (string key in c.Select(p => p.Key).Where(k => k.EndsWith("_initializer", StringComparison.Ordinal)).ToList())
            c[key] = InitializerName(c[key], key);
        if (c["activation"] is JsonObject act) c["activation"] = Text((act["config"] as JsonObject)?["name"]) ?? Text(act["class_name"])?.ToLowerInvariant();
        return new JsonObject { ["class_name"] = cls, ["config"] = c };
    }

    /// <summary>Keras's axis (an int or a one-element list) must name the last axis: -1, or the rank counting the batch as axis 0.</summary>
    internal static void CheckAxis(JsonNode? axis, int rank)
    {
        if (axis is JsonArray a) axis = a.Count == 1 ? a[0] : throw new InvalidDataException($"axis {axis.ToJsonString()} is not supported (Backprop normalizes the last axis)");
        if (axis is JsonValue v && v.GetValue<int>() is int n && n != -1 && n != rank)
            throw new InvalidDataException($"axis {n} is not supported (Backprop normalizes the last axis, {rank} or -1)");
    }

    private static void Refuse(JsonObject c, string key, int allowed, string message)
    {
        if (c[key] is JsonArray a && a.Any(d => d?.GetValue<int>() != allowed) || c[key] is JsonValue v && v.GetValue<int>() != allowed)
            throw new InvalidDataException($"{key} {c[key]!.ToJsonString()}: {message}");
    }

    private static JsonArray WithoutBatch(JsonArray batch) =>
        new([.. batch.Skip(1).Select(d => (JsonNode)(d ?? throw new InvalidDataException("the input shape has an unknown (None) dimension")).GetValue<int>())]);

    /// <summary>An initializer as Backprop names it; one it does not know falls back to Keras's default for the weight (the file's weights replace it anyway).</summary>
    private static string InitializerName(JsonNode? node, string key)
    {
        string? name = node is JsonObject o ? Text(o["class_name"]) : Text(node);
        string snake = name is null ? "" : Sequential.SnakeCase(name);
        if (Initializers.Names.Contains(snake)) return snake;
        return key.StartsWith("kernel", StringComparison.Ordinal) || key.StartsWith("depthwise", StringComparison.Ordinal)
            || key.StartsWith("pointwise", StringComparison.Ordinal) ? "glorot_uniform"
            : key is "gamma_initializer" or "moving_variance_initializer" ? "ones" : "zeros";
    }

    internal static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;
}
