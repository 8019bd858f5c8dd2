using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Keras.Files;
using PureHDF;

namespace Backprop.Keras;

/// <summary>
/// Keras's own files for a functional model: <c>.keras</c> (Keras 3: config.json holds the "Functional" config,
/// model.weights.h5 the weights under <c>layers/&lt;class key&gt;/vars</c>) and <c>.h5</c>/<c>.hdf5</c> (Keras 2's
/// legacy HDF5, <c>model_config</c> with Keras 2's inbound nodes); see <see cref="KerasFunctionalConfig"/>. A shared
/// layer is stored once, with one inbound node per call.
/// </summary>
public sealed partial class Model
{
    /// <summary>
    /// Saves architecture and weights to one file, atomically: <c>.keras</c> (Keras 3) or <c>.h5</c>/<c>.hdf5</c>
    /// (Keras 2's legacy HDF5). Other extensions are refused; <see cref="SaveWeights"/> writes safetensors weights.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var layers = graph.Layers.ToList();
        switch (Sequential.KindOf(path))
        {
            case Sequential.FileKind.Keras3:
                KerasArchive.Write(path, KerasFunctionalConfig.Write(this, keras3: true), KerasHdf5.Encode(KerasWeights.WriteKeras3(layers)));
                return;
            case Sequential.FileKind.LegacyH5:
                var modelWeights = new H5Group();
                KerasWeights.WriteLegacy(modelWeights, layers);
                var file = new H5File { ["model_weights"] = modelWeights };
                file.Attributes["keras_version"] = KerasModelConfig.Keras2Version;
                file.Attributes["backend"] = "tensorflow";
                file.Attributes["model_config"] = KerasFunctionalConfig.Write(this, keras3: false).ToJsonString();
                byte[] bytes = KerasHdf5.Encode(file);
                AtomicFile.Write(path, s => s.Write(bytes));
                return;
            default:
                throw new ArgumentException($"Save: '{path}': a functional model is saved as .keras (Keras 3) or .h5 (Keras 2); use SaveWeights for .safetensors weights.", nameof(path));
        }
    }

    /// <summary>
    /// Rebuilds a functional model saved by <see cref="Save"/> or by Keras (<c>.keras</c>, legacy <c>.h5</c>) with one
    /// input and one output: same layers, calls and weights, so it predicts exactly as the saved one did; compiled as
    /// Keras saved it when its compile settings are plain, otherwise uncompiled. A missing, foreign or corrupt file
    /// gives an exception naming the file and the problem.
    /// </summary>
    public static Model Load(string path, Generator? generator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No saved model at '{path}'.", path);
        var (config, compile, weights, where) = ReadKerasFile(path);
        if (!KerasFunctionalConfig.IsFunctional(config))
            throw new InvalidDataException($"'{path}' holds a Keras '{(config as JsonObject)?["class_name"]}' model, not a functional one; load it with Sequential.Load (Model.IsFunctionalFile tells which).");
        Model model;
        try { model = KerasFunctionalConfig.Read(config, generator, weights.LongLength); }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ArgumentException or JsonException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"'{path}': the Keras model cannot be rebuilt: {e.Message}", e);
        }
        using (var h5 = KerasHdf5.Open(weights, where)) KerasWeights.Read(h5, [.. model.graph.Layers]);
        try { model.trainer.Recompile(KerasCompileConfig.Translate(compile)); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }   // a loss or metric Backprop lacks: load uncompiled
        return model;
    }

    /// <summary>The model config, compile settings and weights' bytes of a .keras or legacy .h5 file.</summary>
    internal static (JsonNode? Config, JsonNode? Compile, byte[] Weights, string Where) ReadKerasFile(string path)
    {
        var kind = Sequential.KindOf(path);
        if (kind == Sequential.FileKind.Keras3)
        {
            var (config, weights) = KerasArchive.Read(path);
            return (config, (config as JsonObject)?["compile_config"], weights, $"'{path}' ({KerasArchive.Weights})");
        }
        if (kind != Sequential.FileKind.LegacyH5)
            throw new ArgumentException($"Load: '{path}': a Keras model file is .keras (Keras 3) or .h5/.hdf5 (Keras 2).", nameof(path));
        byte[] bytes = File.ReadAllBytes(path);
        string where = $"'{path}'";
        using var probe = KerasHdf5.Open(bytes, where);
        string text = probe.StringAttribute(probe.Root, "model_config") ?? throw new InvalidDataException(
            $"{where}: an HDF5 file without a 'model_config' attribute: it holds weights only, or it is not a Keras model.");
        try
        {
            var config = JsonNode.Parse(text);
            var compile = probe.StringAttribute(probe.Root, "training_config") is string training ? JsonNode.Parse(training) : null;
            return (config, compile, bytes, where);
        }
        catch (JsonException e) { throw new InvalidDataException($"{where}: model_config or training_config is not valid JSON: {e.Message}", e); }
    }
}
