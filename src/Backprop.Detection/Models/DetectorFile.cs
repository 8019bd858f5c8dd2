using System.Globalization;
using System.Text.Json;
using Backprop.IO;

namespace Backprop.Detection;

/// <summary>
/// A trained detector in one safetensors file: the weights by dotted name, and its <see cref="FasterRcnnConfig"/>
/// (backbone, class names, anchors) as JSON in the file's metadata, so <see cref="Load"/> rebuilds the same model.
/// </summary>
public static class DetectorFile
{
    private const string ConfigKey = "backprop.detection.config";

    /// <summary>Writes the model atomically (a temporary file renamed into place).</summary>
    public static void Save(FasterRcnn model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config ?? throw new ArgumentException("Only a model made by FasterRcnn.Create can be saved with its configuration.");
        SafeTensors.Write(path, model.StateDict(), new Dictionary<string, string> { [ConfigKey] = JsonSerializer.Serialize(config) });
    }

    /// <summary>Rebuilds the model a file holds, in eval mode.</summary>
    public static FasterRcnn Load(string path)
    {
        var metadata = SafeTensors.ReadMetadata(path);
        if (!metadata.TryGetValue(ConfigKey, out var json))
            throw new InvalidDataException($"{path} is not a Backprop detector: its metadata has no '{ConfigKey}' entry (was it written by 'backprop detect train'?).");
        FasterRcnnConfig config;
        try
        {
            config = JsonSerializer.Deserialize<FasterRcnnConfig>(json) ?? throw new InvalidDataException($"{path}: the detector configuration is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the detector configuration is not valid JSON ({e.Message}).", e);
        }
        var model = FasterRcnn.Create(config, seed: 0);
        var state = SafeTensors.Read(path);
        try
        {
            model.LoadStateDict(state);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: the weights do not fit a {config.Backbone} Faster R-CNN with {config.Classes.Count} classes: {e.Message}"), e);
        }
        model.Eval();
        return model;
    }
}
