using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Backprop.IO;

namespace Backprop.Keras.Files;

/// <summary>
/// Keras 3's <c>.keras</c> file: a zip holding <c>metadata.json</c> (<c>keras_version</c>, <c>date_saved</c> as
/// <c>yyyy-MM-dd@HH:mm:ss</c>), <c>config.json</c> (the serialized model) and <c>model.weights.h5</c> (see
/// <see cref="KerasWeights"/>). Members are read with their sizes checked against the archive's, so a zip bomb or a
/// lying header cannot size an allocation.
/// </summary>
internal static class KerasArchive
{
    public const string Config = "config.json", Metadata = "metadata.json", Weights = "model.weights.h5";

    // Deflate packs at most about 1032:1; a member claiming more is corrupt.
    private const long MaxCompressionRatio = 1100;

    /// <summary>Writes the archive atomically, members stored as Keras stores them (no compression).</summary>
    public static void Write(string path, JsonObject config, byte[] weights)
    {
        var metadata = new JsonObject
        {
            ["keras_version"] = KerasModelConfig.Keras3Version,
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            ["saved_by"] = "Backprop",
        };
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Add(zip, Metadata, Encoding.UTF8.GetBytes(metadata.ToJsonString()));
            Add(zip, Config, Encoding.UTF8.GetBytes(config.ToJsonString()));
            Add(zip, Weights, weights);
        });
    }

    private static void Add(ZipArchive zip, string name, byte[] data)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        entry.Write(data);
    }

    /// <summary>Reads the config and the weights' bytes; a missing member or a damaged zip names the file.</summary>
    public static (JsonNode Config, byte[] Weights) Read(string path)
    {
        long fileLength = new FileInfo(path).Length;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var configEntry = zip.GetEntry(Config)
                ?? throw new InvalidDataException($"'{path}' is a zip but not a Keras model: it has no {Config}.");
            var weightsEntry = zip.GetEntry(Weights) ?? throw new InvalidDataException(
                zip.GetEntry("model.weights.npz") is not null
                    ? $"'{path}': its weights are stored as model.weights.npz; Backprop reads the default model.weights.h5 (save with weights_format=\"h5\")."
                    : $"'{path}': the weights ({Weights}) are missing from the archive.");
            string configText = Encoding.UTF8.GetString(ReadEntry(path, configEntry, fileLength));
            var config = JsonNode.Parse(configText) ?? throw new InvalidDataException($"'{path}': {Config} is empty.");
            return (config, ReadEntry(path, weightsEntry, fileLength));
        }
        catch (Exception e) when (e is InvalidDataException && !e.Message.Contains(path, StringComparison.Ordinal)
            || e is System.Text.Json.JsonException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"'{path}': not a readable .keras file (a truncated or corrupt zip, or bad JSON): {e.Message}", e);
        }
    }

    private static byte[] ReadEntry(string path, ZipArchiveEntry entry, long fileLength)
    {
        long declared = entry.Length;
        if (declared < 0 || entry.CompressedLength > fileLength || declared > Math.Min(Array.MaxLength, Math.Max(fileLength, entry.CompressedLength * MaxCompressionRatio)))
            throw new InvalidDataException($"'{path}': member {entry.FullName} declares {declared} bytes, more than the {fileLength}-byte archive can hold; it is corrupt.");
        var data = new byte[declared];
        using var stream = entry.Open();
        int read = 0;
        while (read < data.Length)
        {
            int n = stream.Read(data, read, data.Length - read);
            if (n == 0) throw new InvalidDataException($"'{path}': member {entry.FullName} ends after {read} of its {declared} bytes; the file is truncated.");
            read += n;
        }
        return data;
    }
}
