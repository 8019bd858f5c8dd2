using System.Text.Json.Nodes;

namespace Backprop.Keras.Files;

/// <summary>
/// A functional <see cref="Model"/>'s architecture as Keras serializes it: <c>{"class_name": "Functional", "config":
/// {"name", "layers": [...], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}</c>, each layer
/// entry carrying its <c>name</c> and <c>inbound_nodes</c>, one per call (a shared layer has several). Keras 3 writes a
/// call as <c>{"args": [tensor or [tensors]], "kwargs": {}}</c>, each tensor
/// <c>{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer, call, 0]}}</c>;
/// Keras 2 as a list of <c>[layer, call, 0, {}]</c>. Reading accepts both, single input and output.
/// </summary>
internal static class KerasFunctionalConfig
{
    public static JsonObject Write(Model model, bool keras3)
    {
        var graph = model.Graph;
        var calls = graph.Calls;
        var layers = new JsonArray();
        foreach (var layer in graph.Layers)
        {
            var layerCalls = calls.Where(c => c.Layer == layer).ToList();
            JsonObject entry;
            if (layer is InputLayer)
            {
                var settings = new JsonObject { [keras3 ? "batch_shape" : "batch_input_shape"] = KerasModelConfig.Batch(layer.OutputShape), ["dtype"] = "float32", ["sparse"] = false };
                if (!keras3) settings["ragged"] = false;
                settings["name"] = layer.Name;
                entry = KerasModelConfig.Entry("InputLayer", settings, keras3, null);
            }
            else
            {
                entry = KerasModelConfig.Entry(layer.ClassName, KerasModelConfig.LayerSettings(layer, keras3), keras3, null);
                if (keras3)
                    entry["build_config"] = new JsonObject
                    {
                        ["input_shape"] = layer is MergeLayer merge ? new JsonArray([.. merge.InputShapes.Select(s => (JsonNode)KerasModelConfig.Batch(s))]) : KerasModelConfig.Batch(layer.InputShape),
                    };
            }
            entry["name"] = layer.Name;
            entry["inbound_nodes"] = new JsonArray([.. layerCalls.Where(c => c.Inbound.Count > 0).Select(c => (JsonNode)Call(c, graph, keras3))]);
            layers.Add(entry);
        }
        var config = new JsonObject
        {
            ["name"] = model.Name,
            ["trainable"] = true,
            ["layers"] = layers,
            ["input_layers"] = new JsonArray(Reference(model.Inputs, graph)),
            ["output_layers"] = new JsonArray(Reference(model.Outputs, graph)),
        };
        var root = new JsonObject();
        if (keras3) root["module"] = "keras.src.models.functional";
        root["class_name"] = "Functional";
        root["config"] = config;
        if (keras3)
        {
            root["registered_name"] = "Functional";
            root["build_config"] = new JsonObject { ["input_shape"] = null };
        }
        return root;
    }

    private static JsonArray Reference(KerasTensor t, GraphLayer graph) => new(t.Layer.Name, graph.CallIndex(t), 0);

    private static JsonNode Call(KerasTensor call, GraphLayer graph, bool keras3)
    {
        if (!keras3) return new JsonArray([.. call.Inbound.Select(t => (JsonNode)new JsonArray(t.Layer.Name, graph.CallIndex(t), 0, new JsonObject()))]);
        var tensors = call.Inbound.Select(t => (JsonNode)new JsonObject
        {
            ["class_name"] = "__keras_tensor__",
            ["config"] = new JsonObject { ["shape"] = KerasModelConfig.Batch(t.Shape), ["dtype"] = "float32", ["keras_history"] = Reference(t, graph) },
        }).ToList();
        JsonNode args = call.Layer is MergeLayer ? new JsonArray(new JsonArray([.. tensors])) : new JsonArray(tensors[0]);
        return new JsonObject { ["args"] = args, ["kwargs"] = new JsonObject() };
    }

    /// <summary>True when <paramref name="root"/> is a functional model's config (Keras 3's "Functional", Keras 2's "Functional" or "Model").</summary>
    public static bool IsFunctional(JsonNode? root) => KerasModelConfig.Text((root as JsonObject)?["class_name"]) is "Functional" or "Model";

    /// <summary>
    /// Rebuilds the model: layers from their configs, then their calls in an order where each call's inputs exist
    /// (Keras's own order). Errors name the layer; the caller adds the file. <paramref name="weightBudget"/> (bytes)
    /// bounds the weights allocated, so a lying config cannot size an allocation beyond the file's.
    /// </summary>
    public static Model Read(JsonNode? root, Generator? generator, long weightBudget)
    {
        var config = (root as JsonObject)?["config"] as JsonObject ?? throw new InvalidDataException("the model config has no config object");
        var list = config["layers"] as JsonArray ?? throw new InvalidDataException("the model config has no layers list");
        string name = KerasModelConfig.Text(config["name"]) is { Length: > 0 } n ? n : "model";
        var entries = new List<(string Name, Layer Layer, JsonObject Normalized, List<List<(string Layer, int Call)>> Calls)>();
        Input? input = null;
        for (int i = 0; i < list.Count; i++)
        {
            var entry = list[i] as JsonObject ?? throw new InvalidDataException($"layer {i} is not a JSON object");
            string cls = KerasModelConfig.Text(entry["class_name"]) ?? throw new InvalidDataException($"layer {i} has no class_name");
            string layerName = KerasModelConfig.Text(entry["name"]) ?? KerasModelConfig.Text((entry["config"] as JsonObject)?["name"]) ?? "?";
            try
            {
                var normalized = KerasModelConfig.Normalize(entry, cls, firstLayer: false);
                var calls = Calls(entry["inbound_nodes"]);
                if (cls == "InputLayer")
                {
                    if (input is not null) throw new InvalidDataException("a second InputLayer: models with several inputs are not supported");
                    var shape = LayerConfig.Read(normalized).DeclaredInputShape!;
                    input = new Input(shape, generator, layerName);
                    continue;
                }
                entries.Add((layerName, LayerConfig.Read(normalized), normalized, calls));
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new InvalidDataException($"layer {i} '{layerName}' ({cls}): {e.Message}", e);
            }
        }
        if (input is null) throw new InvalidDataException("the model config has no InputLayer");
        var tensors = new Dictionary<(string, int), KerasTensor> { [(input.Layer.Name, 0)] = input };
        var done = new int[entries.Count];
        long budget = weightBudget;
        for (bool progress = true; progress;)
        {
            progress = false;
            for (int i = 0; i < entries.Count; i++)
            {
                var (layerName, layer, normalized, calls) = entries[i];
                // A layer's calls run in their order, so its k-th call is the tensor others name (layer, k).
                while (done[i] < calls.Count && calls[done[i]].All(r => tensors.ContainsKey(r)))
                {
                    var inputs = calls[done[i]].Select(r => tensors[r]).ToArray();
                    try
                    {
                        if (!layer.IsBuilt)
                        {
                            long needed = layer.StoredWeightCount(inputs[0].Shape);
                            if (needed > budget) throw new InvalidDataException($"on input {inputs[0].Shape.WithBatch()} it needs {needed} weights, more than the {budget} bytes of the file left for it can hold");
                            budget -= needed;
                        }
                        tensors[(layerName, done[i])] = layer is MergeLayer merge ? merge.Apply(inputs)
                            : inputs.Length == 1 ? layer.Apply(inputs[0])
                            : throw new InvalidDataException($"a call takes {inputs.Length} tensors; only merge layers (Add, Concatenate) take several");
                        if (layer is BatchNormalization) KerasModelConfig.CheckAxis(normalized["config"]!["axis"], layer.InputShape.Rank);
                    }
                    catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException)
                    {
                        throw new InvalidDataException($"layer '{layerName}' ({layer.ClassName}): {e.Message}", e);
                    }
                    done[i]++;
                    progress = true;
                }
            }
        }
        for (int i = 0; i < entries.Count; i++)
            if (done[i] < entries[i].Calls.Count)
            {
                var missing = entries[i].Calls[done[i]].First(r => !tensors.ContainsKey(r));
                throw new InvalidDataException($"layer '{entries[i].Name}' is called on '{missing.Layer}' (call {missing.Call}), which no layer of the model produces");
            }
        var outputRef = Single(config["output_layers"], "output_layers");
        var output = tensors.GetValueOrDefault(outputRef) ?? throw new InvalidDataException($"output_layers names '{outputRef.Item1}' (call {outputRef.Item2}), which the model does not produce");
        var inputRef = Single(config["input_layers"], "input_layers");
        if (inputRef != (input.Layer.Name, 0)) throw new InvalidDataException($"input_layers names '{inputRef.Item1}', but the InputLayer is '{input.Layer.Name}'");
        return new Model(input, output, name);
    }

    /// <summary>A layer's inbound nodes as the (layer, call) each call reads, in either Keras's form.</summary>
    private static List<List<(string, int)>> Calls(JsonNode? inbound)
    {
        if (inbound is null) return [];
        var nodes = inbound as JsonArray ?? throw new InvalidDataException("inbound_nodes is not a list");
        var result = new List<List<(string, int)>>();
        foreach (var node in nodes)
        {
            var refs = new List<(string, int)>();
            if (node is JsonObject keras3)
            {
                Collect(keras3["args"], refs);
                if (keras3["kwargs"] is JsonObject kwargs && kwargs.Count > 0)
                    throw new InvalidDataException($"a call passes keyword arguments ({string.Join(", ", kwargs.Select(k => k.Key))}), which Backprop does not support");
            }
            else if (node is JsonArray keras2)
                foreach (var r in keras2) refs.Add(Ref(r as JsonArray ?? throw new InvalidDataException("an inbound node entry is not a list"), "inbound_nodes"));
            else throw new InvalidDataException("an inbound node is neither a list nor an object");
            if (refs.Count == 0) throw new InvalidDataException("a call takes no tensors");
            result.Add(refs);
        }
        return result;
    }

    private static void Collect(JsonNode? node, List<(string, int)> refs)
    {
        switch (node)
        {
            case JsonArray a:
                foreach (var item in a) Collect(item, refs);
                break;
            case JsonObject o when KerasModelConfig.Text(o["class_name"]) == "__keras_tensor__":
                refs.Add(Ref((o["config"] as JsonObject)?["keras_history"] as JsonArray ?? throw new InvalidDataException("a tensor has no keras_history"), "keras_history"));
                break;
            case JsonObject:
                throw new InvalidDataException("a call argument is an object other than a tensor");
            default:
                break;   // a constant argument (Keras 3 writes e.g. training flags); nothing to connect
        }
    }

    private static (string, int) Ref(JsonArray a, string key)
    {
        if (a.Count < 3) throw new InvalidDataException($"'{key}' entry {a.ToJsonString()} needs [layer, call, tensor]");
        string layer = KerasModelConfig.Text(a[0]) ?? throw new InvalidDataException($"'{key}' entry {a.ToJsonString()} does not start with a layer name");
        int call = LayerConfig.NotNull(a[1], key).GetValue<int>(), tensor = LayerConfig.NotNull(a[2], key).GetValue<int>();
        if (tensor != 0) throw new InvalidDataException($"'{key}' entry {a.ToJsonString()} names output {tensor}; Backprop's layers have one output");
        return (layer, call);
    }

    /// <summary>Keras writes one tensor as [name, call, 0] or, wrapped, [[name, call, 0]].</summary>
    private static (string, int) Single(JsonNode? node, string key)
    {
        var a = node as JsonArray ?? throw new InvalidDataException($"the model config has no {key}");
        if (a.Count > 0 && a[0] is JsonArray)
        {
            if (a.Count != 1) throw new InvalidDataException($"{key} lists {a.Count} tensors; models with several inputs or outputs are not supported");
            a = (JsonArray)a[0]!;
        }
        return Ref(a, key);
    }
}
