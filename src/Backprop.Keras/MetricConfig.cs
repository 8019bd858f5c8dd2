using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Metrics in a saved model's compile_config: a name for Keras's named metrics, and for configured objects
/// <c>{"class_name": "AUC", "config": {"name": ..., "num_thresholds": ...}}</c> as Keras writes them.
/// </summary>
internal static class MetricConfig
{
    public static JsonNode Write(KerasMetric metric) => metric switch
    {
        Precision p => Object("Precision", p.Name, new() { ["thresholds"] = p.Threshold, ["class_id"] = p.ClassId }),
        Recall r => Object("Recall", r.Name, new() { ["thresholds"] = r.Threshold, ["class_id"] = r.ClassId }),
        AUC a => Object("AUC", a.Name, new() { ["num_thresholds"] = a.NumThresholds, ["summation_method"] = a.SummationMethod }),
        _ => metric.Name,
    };

    public static KerasMetric Read(JsonNode? node)
    {
        node = LayerConfig.NotNull(node, "metrics");
        if (node is JsonValue) return KerasMetric.FromName(node.GetValue<string>());
        var c = node["config"] as JsonObject ?? throw new InvalidDataException("a metric has no config object");
        string name = c["name"]?.GetValue<string>() ?? throw new InvalidDataException("a metric's config has no name");
        return node["class_name"]?.GetValue<string>() switch
        {
            "Precision" => new Precision(c["thresholds"]?.GetValue<double>() ?? 0.5, c["class_id"]?.GetValue<int>(), name),
            "Recall" => new Recall(c["thresholds"]?.GetValue<double>() ?? 0.5, c["class_id"]?.GetValue<int>(), name),
            "AUC" => new AUC(c["num_thresholds"]?.GetValue<int>() ?? 200, c["summation_method"]?.GetValue<string>() ?? "interpolation", name),
            var other => throw new InvalidDataException($"unknown metric class '{other}'"),
        };
    }

    private static JsonObject Object(string className, string name, JsonObject config)
    {
        config["name"] = name;
        return new JsonObject { ["class_name"] = className, ["config"] = config };
    }
}
