using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx.Import;

/// <summary>
/// Reads a .onnx file into a <see cref="ModelProto"/> and checks its versions: the IR version must be one Backprop
/// knows and the default operator set must be one of <see cref="MinOpset"/>..<see cref="MaxOpset"/>.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>The oldest default-domain opset the importer reads (numpy broadcasting starts at 7).</summary>
    public const long MinOpset = 7;

    /// <summary>The newest default-domain opset the importer reads.</summary>
    public const long MaxOpset = 21;

    /// <summary>The newest IR version the importer reads.</summary>
    public const long MaxIrVersion = 10;

    /// <summary>Parses <paramref name="path"/>; a file that is not a complete ONNX model gives an <see cref="InvalidDataException"/> naming it.</summary>
    public static ModelProto Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model ({e.Message.TrimEnd('.')}); the file is truncated, corrupt or not ONNX.", e);
        }
        if (model.Graph is null || (model.Graph.Node.Count == 0 && model.Graph.Output.Count == 0))
            throw new InvalidDataException($"{path}: the file holds no ONNX graph (empty, truncated or not an ONNX model).");
        DefaultOpset(model, path);
        return model;
    }

    /// <summary>The default-domain opset version of <paramref name="model"/>, checked against the supported range.</summary>
    public static long DefaultOpset(ModelProto model, string path)
    {
        if (model.IrVersion < 3 || model.IrVersion > MaxIrVersion)
            throw new InvalidDataException($"{path}: ONNX IR version {model.IrVersion} is not supported (Backprop reads IR versions 3 to {MaxIrVersion}).");
        var defaults = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (defaults.Count == 0)
            throw new InvalidDataException($"{path}: the model imports no version of the default ONNX operator set (opset_import has {Describe(model)}).");
        long version = defaults[0].Version;
        if (version < MinOpset || version > MaxOpset)
            throw new InvalidDataException($"{path}: ONNX opset {version} is not supported; Backprop imports opsets {MinOpset} to {MaxOpset} (re-export the model with an opset in that range, e.g. opset_version=13).");
        return version;
    }

    private static string Describe(ModelProto model) =>
        model.OpsetImport.Count == 0 ? "no entries" : string.Join(", ", model.OpsetImport.Select(o => $"'{o.Domain}' {o.Version}"));
}
