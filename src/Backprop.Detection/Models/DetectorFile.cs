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

    // The box coder weights are a value tuple, whose parts are fields.
    private static readonly JsonSerializerOptions Json = new() { IncludeFields = true };

    /// <summary>Writes the model atomically (a temporary file renamed into place).</summary>
    public static void Save(FasterRcnn model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config ?? throw new ArgumentException("Only a model made by FasterRcnn.Create can be saved with its configuration.");
        SafeTensors.Write(path, model.StateDict(), new Dictionary<string, string> { [ConfigKey] = JsonSerializer.Serialize(config, Json) });
    }

    /// <summary>
    /// Rebuilds the model a file holds, in eval mode. The configuration comes from outside: it is validated, and the
    /// sizes it asks for are checked against the tensors the file holds before any layer is allocated.
    /// </summary>
    public static FasterRcnn Load(string path)
    {
        var metadata = SafeTensors.ReadMetadata(path);
        if (!metadata.TryGetValue(ConfigKey, out var json))
            throw new InvalidDataException($"{path} is not a Backprop detector: its metadata has no '{ConfigKey}' entry (was it written by 'backprop detect train'?).");
        FasterRcnnConfig config;
        try
        {
            config = JsonSerializer.Deserialize<FasterRcnnConfig>(json, Json) ?? throw new InvalidDataException($"{path}: the detector configuration is empty.");
            config.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the detector configuration is not valid ({e.Message}).", e);
        }
        var state = SafeTensors.Read(path);
        int k = 3 * config.AnchorSizes.Count, classes = config.Classes.Count, r = config.RepresentationSize;
        Expect(state, path, "roi_heads.fc7.weight", r, r);
        Expect(state, path, "roi_heads.cls_score.weight", classes + 1, r);
        Expect(state, path, "rpn.head.cls_score.bias", 2 * k);
        var model = FasterRcnn.Create(config, seed: 0);
        try
        {
            model.LoadStateDict(state);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: the weights do not fit a {config.Backbone} Faster R-CNN with {classes} classes: {e.Message}"), e);
        }
        model.Eval();
        return model;
    }

    private static void Expect(Dictionary<string, Tensor> state, string path, string name, params int[] shape)
    {
        if (!state.TryGetValue(name, out var t) || !t.Shape.ToArray().SequenceEqual(shape))
            throw new InvalidDataException($"{path}: '{name}' should have shape ({string.Join(", ", shape)}) for the configuration the file states, " +
                $"but {(t is null ? "it is missing" : $"it has {t.Shape}")}.");
    }
}
