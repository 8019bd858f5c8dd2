namespace Backprop.Onnx;

/// <summary>
/// A network (or part of one) that cannot be written as ONNX. <see cref="LayerPath"/> names the layer in the network's
/// own terms (a module path such as <c>features.3</c>, or a Caffe/Keras layer name) and <see cref="LayerType"/> its type.
/// </summary>
public sealed class OnnxExportException : Exception
{
    /// <summary>An error about a layer; the message starts with the layer's path and type.</summary>
    public OnnxExportException(string layerPath, string layerType, string problem)
        : base($"Cannot export '{(layerPath.Length == 0 ? "(root)" : layerPath)}' ({layerType}) to ONNX: {problem}")
    {
        LayerPath = layerPath;
        LayerType = layerType;
    }

    /// <summary>An error about the model as a whole (no single layer to blame).</summary>
    public OnnxExportException(string message) : base(message)
    {
        LayerPath = "";
        LayerType = "";
    }

    /// <summary>The path of the layer that could not be exported ("" for the root or the whole model).</summary>
    public string LayerPath { get; }

    /// <summary>The type name of that layer ("" when no single layer is to blame).</summary>
    public string LayerType { get; }
}
