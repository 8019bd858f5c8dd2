using Backprop.Keras;

namespace Backprop.Cli;

/// <summary>Lets the inspection commands take a saved Keras-style model where they take a prototxt.</summary>
internal static class KerasModels
{
    public static bool IsPrototxt(string path) =>
        Path.GetExtension(path).Equals(".prototxt", StringComparison.OrdinalIgnoreCase) || Path.GetExtension(path).Equals(".pbtxt", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Throws, naming <paramref name="path"/> and what it seems to be, when a command that reads a Caffe net definition
    /// (text) is given a binary file: a saved Keras-style model (safetensors, a .keras zip, HDF5) or a .caffemodel.
    /// Text files pass whatever their extension. A missing file passes, for the reader to report.
    /// </summary>
    public static void RequireNetText(string path, string command)
    {
        if (!File.Exists(path)) return;
        var head = new byte[512];
        int n;
        using (var stream = File.OpenRead(path)) n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, n);
        string? kind = bytes switch
        {
            [_, _, _, _, _, _, _, _, (byte)'{', ..] when Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase) || bytes.IndexOf((byte)0) is >= 0 and < 8
                => "a saved Keras-style model (safetensors)",
            [(byte)'P', (byte)'K', 3, 4, ..] => "a zip archive (a .keras model?)",
            [0x89, (byte)'H', (byte)'D', (byte)'F', ..] => "an HDF5 file (Keras .h5 weights?)",
            _ when bytes.IndexOf((byte)0) >= 0 || bytes.ContainsAnyInRange((byte)1, (byte)8) => "a binary file (trained weights such as a .caffemodel?)",
            _ => null,
        };
        if (kind is null) return;
        string advice = command == "graph"
            ? "graph draws a Caffe net from its text definition: pass the .prototxt (for a Keras-style model, `backprop summary --model` lists its layers)."
            : $"{command} reads a Caffe net from its text definition: pass the .prototxt as --model and the trained weights as --weights.";
        throw new ArgumentException($"{path} is not a net definition (prototxt): it looks like {kind}. {advice}");
    }

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
