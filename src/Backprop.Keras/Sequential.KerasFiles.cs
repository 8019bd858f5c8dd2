using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Keras.Files;
using PureHDF;

namespace Backprop.Keras;

/// <summary>
/// Keras's own files, chosen by extension: <c>.keras</c> (Keras 3's zip of config.json, metadata.json and
/// model.weights.h5), <c>.h5</c>/<c>.hdf5</c> (Keras 2's legacy HDF5: root attributes <c>model_config</c>,
/// <c>keras_version</c>, <c>backend</c> and the weights under <c>model_weights</c>), <c>.weights.h5</c> (Keras 3's
/// save_weights) and <c>.safetensors</c> (Backprop's own). See <see cref="KerasWeights"/> for the weight layouts.
/// </summary>
public sealed partial class Sequential
{
    /// <summary>The extensions <see cref="Save"/> and <see cref="Load"/> understand.</summary>
    public static IReadOnlyList<string> ModelExtensions { get; } = [".keras", ".h5", ".hdf5", ".safetensors"];

    /// <summary>The extensions <see cref="SaveWeights"/> writes.</summary>
    public static IReadOnlyList<string> WeightsExtensions { get; } = [".weights.h5", ".h5", ".hdf5", ".safetensors"];

    internal enum FileKind { Keras3, LegacyH5, Keras3Weights, SafeTensors, Unknown }

    internal static FileKind KindOf(string path)
    {
        string p = path.ToLowerInvariant();
        if (p.EndsWith(".keras", StringComparison.Ordinal)) return FileKind.Keras3;
        if (p.EndsWith(".weights.h5", StringComparison.Ordinal)) return FileKind.Keras3Weights;
        if (p.EndsWith(".h5", StringComparison.Ordinal) || p.EndsWith(".hdf5", StringComparison.Ordinal)) return FileKind.LegacyH5;
        if (p.EndsWith(".safetensors", StringComparison.Ordinal)) return FileKind.SafeTensors;
        return FileKind.Unknown;
    }

    internal static ArgumentException UnknownExtension(string path, string method, IReadOnlyList<string> known) =>
        new($"{method}: '{path}' has an extension Backprop does not know; use one of {string.Join(", ", known)} (.keras is Keras 3's format, .h5 Keras 2's).", nameof(path));

    private void SaveKeras3(string path)
    {
        var weights = KerasHdf5.Encode(KerasWeights.WriteKeras3(KerasWeights.Stacked(this)));
        KerasArchive.Write(path, KerasModelConfig.Write(this, keras3: true), weights);
    }

    private void SaveLegacyH5(string path)
    {
        var modelWeights = new H5Group();
        KerasWeights.WriteLegacy(modelWeights, KerasWeights.Stacked(this));
        var file = new H5File { ["model_weights"] = modelWeights };
        file.Attributes["keras_version"] = KerasModelConfig.Keras2Version;
        file.Attributes["backend"] = "tensorflow";
        file.Attributes["model_config"] = KerasModelConfig.Write(this, keras3: false).ToJsonString();
        byte[] bytes = KerasHdf5.Encode(file);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    private void SaveKerasWeights(string path, FileKind kind)
    {
        H5File file;
        if (kind == FileKind.Keras3Weights) file = KerasWeights.WriteKeras3(KerasWeights.Stacked(this));
        else
        {
            file = new H5File();
            KerasWeights.WriteLegacy(file, KerasWeights.Stacked(this));
        }
        byte[] bytes = KerasHdf5.Encode(file);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>
    /// Rebuilds a model from a <c>.keras</c> or legacy <c>.h5</c> file, compiled as Keras saved it when its compile
    /// settings are plain (see <see cref="KerasCompileConfig"/>), otherwise uncompiled.
    /// </summary>
    private static Sequential LoadKeras(string path, FileKind kind, Generator? generator)
    {
        JsonNode? config, compile = null;
        byte[] weights;
        string where;
        if (kind == FileKind.Keras3)
        {
            (config, weights) = KerasArchive.Read(path);
            where = $"'{path}' ({KerasArchive.Weights})";
            compile = (config as JsonObject)?["compile_config"];
        }
        else
        {
            weights = File.ReadAllBytes(path);
            where = $"'{path}'";
            using var probe = KerasHdf5.Open(weights, where);
            string text = probe.StringAttribute(probe.Root, "model_config") ?? throw new InvalidDataException(
                $"{where}: an HDF5 file without a 'model_config' attribute: it holds weights only (use LoadWeights on a model built with the same layers), or it is not a Keras model.");
            try
            {
                config = JsonNode.Parse(text);
                if (probe.StringAttribute(probe.Root, "training_config") is string training) compile = JsonNode.Parse(training);
            }
            catch (JsonException e) { throw new InvalidDataException($"{where}: model_config or training_config is not valid JSON: {e.Message}", e); }
        }
        var model = new Sequential([], generator, NameOf(config)) { weightBudget = weights.LongLength };
        try
        {
            KerasModelConfig.Read(config, model);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ArgumentException or JsonException)
        {
            throw new InvalidDataException($"'{path}': the Keras model cannot be rebuilt: {e.Message}", e);
        }
        model.weightBudget = null;
        using var h5 = KerasHdf5.Open(weights, where);
        model.ReadWeights(h5);
        try { model.Recompile(KerasCompileConfig.Translate(compile)); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }   // a loss or metric Backprop lacks: load uncompiled, as documented
        return model;
    }

    private static string NameOf(JsonNode? config)
    {
        string? name = ((config as JsonObject)?["config"] as JsonObject)?["name"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        return string.IsNullOrEmpty(name) ? "sequential" : name;
    }

    private void ReadWeights(KerasHdf5 h5) => KerasWeights.Read(h5, KerasWeights.Stacked(this));

    private void LoadKerasWeights(string path, FileKind kind)
    {
        byte[] data;
        string where;
        if (kind == FileKind.Keras3) { (_, data) = KerasArchive.Read(path); where = $"'{path}' ({KerasArchive.Weights})"; }
        else { data = File.ReadAllBytes(path); where = $"'{path}'"; }
        using var h5 = KerasHdf5.Open(data, where);
        ReadWeights(h5);
    }
}
