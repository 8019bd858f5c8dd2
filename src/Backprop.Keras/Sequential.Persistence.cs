using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.IO;

namespace Backprop.Keras;

/// <summary>
/// Whole-model files. <see cref="Save"/> writes one safetensors file: the tensors are the core state dict
/// (<c>conv2d.weight</c> in the core's (out, in, kh, kw) layout, <c>dense.weight</c> (out, in), batch
/// normalization's <c>running_mean</c>/<c>running_var</c>, ...), and the header's <c>__metadata__</c> holds
/// <c>format</c> = "backprop.keras.sequential", <c>format_version</c> = "1", <c>model_config</c> (the architecture as
/// Keras-style JSON: <c>{"class_name": "Sequential", "config": {"name": ..., "layers": [{"class_name": "Conv2D",
/// "config": {...}}, ...]}}</c>) and, for a compiled model, <c>compile_config</c> (optimizer name and hyper-parameters,
/// loss, metrics; optimizer state is not saved). Any safetensors reader can open the weights.
/// </summary>
public sealed partial class Sequential
{
    /// <summary>The <c>format</c> metadata value of a model file.</summary>
    public const string FileFormat = "backprop.keras.sequential";

    /// <summary>The <c>format_version</c> written and understood.</summary>
    public const int FileFormatVersion = 1;

    /// <summary>
    /// Saves architecture and weights to one file, atomically, in the format its extension names: <c>.keras</c>
    /// (Keras 3), <c>.h5</c>/<c>.hdf5</c> (Keras 2's legacy HDF5) or <c>.safetensors</c> (Backprop's own, with the
    /// compile settings; see the class remarks). Any other extension is refused with the list of known ones.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (layers.Count == 0) throw Empty();
        switch (KindOf(path))
        {
            case FileKind.Keras3: SaveKeras3(path); return;
            case FileKind.LegacyH5: SaveLegacyH5(path); return;
            case FileKind.SafeTensors: break;
            case FileKind.Keras3Weights: throw new ArgumentException($"Save: '{path}' names a weights-only file; use SaveWeights for .weights.h5, or Save to .keras.", nameof(path));
            default: throw UnknownExtension(path, "Save", ModelExtensions);
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FileFormat,
            ["format_version"] = FileFormatVersion.ToString(CultureInfo.InvariantCulture),
            ["model_config"] = ModelConfig().ToJsonString(),
        };
        if (compiled is not null) metadata["compile_config"] = CompileConfig(compiled).ToJsonString();
        SafeTensors.Write(path, network.StateDict(), metadata);
    }

    /// <summary>
    /// Saves only the weights: <c>.weights.h5</c> in Keras 3's layout, <c>.h5</c>/<c>.hdf5</c> in Keras 2's
    /// save_weights layout, <c>.safetensors</c> as the core state dict. Other extensions are refused.
    /// </summary>
    public void SaveWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (layers.Count == 0) throw Empty();
        var kind = KindOf(path);
        if (kind == FileKind.SafeTensors) network.Save(path);
        else if (kind is FileKind.Keras3Weights or FileKind.LegacyH5) SaveKerasWeights(path, kind);
        else throw UnknownExtension(path, "SaveWeights", WeightsExtensions);
    }

    /// <summary>
    /// Loads weights into this model, which must have the saved model's layers: from safetensors (names and shapes
    /// must match), or from any Keras file (.keras, .weights.h5, legacy .h5 whole model or save_weights), whose layout is
    /// recognised from its content; Keras's layers are matched in order and their shapes checked.
    /// </summary>
    public void LoadWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at '{path}'.", path);
        var kind = KindOf(path);
        if (kind is FileKind.Keras3 or FileKind.Keras3Weights or FileKind.LegacyH5) LoadKerasWeights(path, kind);
        else network.Load(path);
    }

    /// <summary>
    /// Rebuilds a model saved by <see cref="Save"/> or by Keras (<c>.keras</c>, legacy <c>.h5</c>): same layers and
    /// weights, so it predicts exactly as the saved one did; a safetensors file also restores the compile settings
    /// (if it was compiled with a named or Keras optimizer), a Keras file loads uncompiled. A missing file, a file that
    /// is not a model file, or a corrupt one gives an exception naming the file and the problem.
    /// </summary>
    public static Sequential Load(string path, Generator? generator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No saved model at '{path}'.", path);
        var kind = KindOf(path);
        if (kind is FileKind.Keras3 or FileKind.LegacyH5) return LoadKeras(path, kind, generator);
        if (kind == FileKind.Keras3Weights)
            throw new InvalidDataException($"'{path}' is a Keras weights file (no architecture); build the model and call LoadWeights.");
        if (kind == FileKind.Unknown) throw UnknownExtension(path, "Load", ModelExtensions);
        var metadata = SafeTensors.ReadMetadata(path);
        if (!metadata.TryGetValue("format", out string? format) || format != FileFormat || !metadata.TryGetValue("model_config", out string? configText))
            throw new InvalidDataException($"'{path}' is a safetensors file but not a Backprop Keras model (no '{FileFormat}' format and model_config in its metadata); to load bare weights into a model use LoadWeights.");
        if (!metadata.TryGetValue("format_version", out string? version) || version != FileFormatVersion.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"'{path}' is a Keras model file of format version {version ?? "(none)"}; this Backprop reads version {FileFormatVersion}. Save it again with a matching Backprop.");

        Sequential model;
        try
        {
            var root = JsonNode.Parse(configText) as JsonObject ?? throw new InvalidDataException("model_config is not a JSON object");
            var config = root["config"] as JsonObject ?? throw new InvalidDataException("model_config has no config object");
            string name = config["name"]?.GetValue<string>() ?? "sequential";
            var list = config["layers"] as JsonArray ?? throw new InvalidDataException("model_config has no layers array");
            model = new Sequential([], generator, name) { weightBudget = new FileInfo(path).Length };   // no layer allocates more weights than the file holds
            for (int i = 0; i < list.Count; i++)
            {
                try { model.Add(LayerConfig.Read(list[i])); }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
                {
                    throw new InvalidDataException($"layer {i}: {e.Message}", e);
                }
            }
            if (metadata.TryGetValue("compile_config", out string? compileText)) model.Recompile(JsonNode.Parse(compileText) as JsonObject);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}': the model architecture cannot be read: {e.Message}", e);
        }
        model.weightBudget = null;
        model.network.Load(path);
        return model;
    }

    private JsonObject ModelConfig() => new()
    {
        ["class_name"] = "Sequential",
        ["config"] = new JsonObject
        {
            ["name"] = Name,
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)LayerConfig.Write(l))]),
        },
    };

    private static JsonObject CompileConfig(CompileState state)
    {
        var optimizer = new JsonObject { ["name"] = state.Spec.Name };
        switch (state.Spec)
        {
            case SGD s: optimizer["learning_rate"] = s.LearningRate; optimizer["momentum"] = s.Momentum; optimizer["nesterov"] = s.Nesterov; break;
            case Adam a: optimizer["learning_rate"] = a.LearningRate; optimizer["beta_1"] = a.Beta1; optimizer["beta_2"] = a.Beta2; optimizer["epsilon"] = a.Epsilon; break;
            case RMSprop r: optimizer["learning_rate"] = r.LearningRate; optimizer["rho"] = r.Rho; optimizer["momentum"] = r.Momentum; optimizer["epsilon"] = r.Epsilon; break;
            case AdamW a: optimizer["learning_rate"] = a.LearningRate; optimizer["weight_decay"] = a.WeightDecay; optimizer["beta_1"] = a.Beta1; optimizer["beta_2"] = a.Beta2; optimizer["epsilon"] = a.Epsilon; break;
            case Adagrad a: optimizer["learning_rate"] = a.LearningRate; optimizer["initial_accumulator_value"] = a.InitialAccumulatorValue; optimizer["epsilon"] = a.Epsilon; break;
            case Adadelta a: optimizer["learning_rate"] = a.LearningRate; optimizer["rho"] = a.Rho; optimizer["epsilon"] = a.Epsilon; break;
            case Nadam a: optimizer["learning_rate"] = a.LearningRate; optimizer["beta_1"] = a.Beta1; optimizer["beta_2"] = a.Beta2; optimizer["epsilon"] = a.Epsilon; break;
            case Adamax a: optimizer["learning_rate"] = a.LearningRate; optimizer["beta_1"] = a.Beta1; optimizer["beta_2"] = a.Beta2; optimizer["epsilon"] = a.Epsilon; break;
        }
        return new JsonObject
        {
            ["optimizer"] = optimizer,
            ["loss"] = state.Loss,
            ["metrics"] = new JsonArray([.. state.ResolvedMetrics.Select(MetricConfig.Write)]),
        };
    }

    internal void Recompile(JsonObject? config)
    {
        if (config?["optimizer"] is not JsonObject o || config["loss"] is not JsonNode loss) return;
        double D(string key, double fallback) => o[key]?.GetValue<double>() ?? fallback;
        KerasOptimizer? optimizer = o["name"]?.GetValue<string>() switch
        {
            "sgd" => new SGD(D("learning_rate", 0.01), D("momentum", 0), o["nesterov"]?.GetValue<bool>() ?? false),
            "adam" => new Adam(D("learning_rate", 0.001), D("beta_1", 0.9), D("beta_2", 0.999), D("epsilon", 1e-7)),
            "rmsprop" => new RMSprop(D("learning_rate", 0.001), D("rho", 0.9), D("momentum", 0), D("epsilon", 1e-7)),
            "adamw" => new AdamW(D("learning_rate", 0.001), D("weight_decay", 0.004), D("beta_1", 0.9), D("beta_2", 0.999), D("epsilon", 1e-7)),
            "adagrad" => new Adagrad(D("learning_rate", 0.001), D("initial_accumulator_value", 0.1), D("epsilon", 1e-7)),
            "adadelta" => new Adadelta(D("learning_rate", 0.001), D("rho", 0.95), D("epsilon", 1e-7)),
            "nadam" => new Nadam(D("learning_rate", 0.001), D("beta_1", 0.9), D("beta_2", 0.999), D("epsilon", 1e-7)),
            "adamax" => new Adamax(D("learning_rate", 0.001), D("beta_1", 0.9), D("beta_2", 0.999), D("epsilon", 1e-7)),
            _ => null,   // a custom optimizer cannot be rebuilt: the model loads uncompiled
        };
        if (optimizer is null || network.Parameters().All(p => !p.RequiresGrad)) return;
        KerasMetric[] metrics = (config["metrics"] as JsonArray)?.Select(MetricConfig.Read).ToArray() ?? [];
        Compile(optimizer, loss.GetValue<string>(), metrics);
    }
}
