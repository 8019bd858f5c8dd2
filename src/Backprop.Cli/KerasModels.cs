using Backprop.Keras;

namespace Backprop.Cli;

/// <summary>Lets the inspection commands take a saved Keras-style model where they take a prototxt.</summary>
internal static class KerasModels
{
    public static bool IsPrototxt(string path) =>
        Path.GetExtension(path).Equals(".prototxt", StringComparison.OrdinalIgnoreCase) || Path.GetExtension(path).Equals(".pbtxt", StringComparison.OrdinalIgnoreCase);

    /// <summary>A Conv2D layer's filters in the core's (K, C, KH, KW) layout.</summary>
    public static Tensor ConvolutionWeights(string modelPath, string layerName)
    {
        var model = Sequential.Load(modelPath);
        var layer = model.GetLayer(layerName);
        if (layer.Module is not Nn.Conv2d conv)
            throw new ArgumentException($"Layer '{layerName}' of {modelPath} is a {layer.ClassName}, not a Conv2D; its Conv2D layers are " +
                $"{string.Join(", ", model.Layers.Where(l => l.Module is Nn.Conv2d).Select(l => l.Name))}.");
        return conv.Weight.Detach();
    }
}
