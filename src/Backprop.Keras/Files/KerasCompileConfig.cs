using System.Text.Json.Nodes;

namespace Backprop.Keras.Files;

/// <summary>
/// Turns the compile settings Keras stores (Keras 3's <c>compile_config</c> in config.json, Keras 2's
/// <c>training_config</c> attribute) into Backprop's (<c>{"optimizer": {"name", hyper-parameters}, "loss", "metrics"}</c>),
/// where they are plain: an optimizer given by name or as a class with numeric hyper-parameters, a loss and metrics
/// given by name. Anything else (a custom loss, a learning-rate schedule) gives null: the model then loads uncompiled.
/// </summary>
internal static class KerasCompileConfig
{
    private static readonly string[] HyperParameters = ["learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon", "rho"];

    public static JsonObject? Translate(JsonNode? config)
    {
        if (config is not JsonObject c || Name(c["loss"]) is not string loss) return null;
        var source = c["optimizer"] ?? c["optimizer_config"];
        JsonObject optimizer;
        if (Name(source) is string named) optimizer = new JsonObject { ["name"] = named.ToLowerInvariant() };
        else if (source is JsonObject o && o["config"] is JsonObject settings && Name(o["class_name"]) is string cls)
        {
            optimizer = new JsonObject { ["name"] = cls.ToLowerInvariant() };
            foreach (string key in HyperParameters)
            {
                if (settings[key] is not JsonValue v) continue;
                if (v.TryGetValue(out double d)) optimizer[key] = d;
                else if (v.TryGetValue(out bool b)) optimizer[key] = b;
                else return null;   // e.g. a learning-rate schedule
            }
        }
        else return null;
        var metrics = new JsonArray();
        foreach (var m in Flatten(c["metrics"]))
        {
            if (Name(m) is not string metric) return null;
            metrics.Add(metric);
        }
        return new JsonObject { ["optimizer"] = optimizer, ["loss"] = loss, ["metrics"] = metrics };
    }

    // Keras writes metrics as a list, or a list of lists (one per output).
    private static IEnumerable<JsonNode?> Flatten(JsonNode? node) => node switch
    {
        JsonArray a => a.SelectMany(Flatten),
        null => [],
        _ => [node],
    };

    private static string? Name(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;
}
