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
        if (BinaryKind(path) is string kind) throw NotNetText(path, command, kind, null);
    }

    private static string? BinaryKind(string path)
    {
        if (!File.Exists(path)) return null;
        var head = new byte[512];
        int n;
        using (var stream = File.OpenRead(path)) n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, n);
        return bytes switch
        {
            [_, _, _, _, _, _, _, _, (byte)'{', ..] when Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase) || bytes.IndexOf((byte)0) is >= 0 and < 8
                => SafeTensorsKind,
            [(byte)'P', (byte)'K', 3, 4, ..] => ZipKind,
            [0x89, (byte)'H', (byte)'D', (byte)'F', ..] => Hdf5Kind,
            _ when bytes.IndexOf((byte)0) >= 0 || bytes.ContainsAnyInRange((byte)1, (byte)8) => "a binary file (trained weights such as a .caffemodel?)",
            _ => null,
        };
    }

    private const string SafeTensorsKind = "a saved Keras-style model (safetensors)", ZipKind = "a zip archive (a .keras model?)", Hdf5Kind = "an HDF5 file (Keras .h5 weights?)";

    private static ArgumentException NotNetText(string path, string command, string kind, string? kerasError)
    {
        string advice = command == "graph"
            ? "graph draws a Caffe net from its text definition (pass the .prototxt) or a saved Keras model (.keras, .h5, .safetensors from Save)."
            : command == "features"
            ? "features reads a Caffe net from its text definition (pass the .prototxt as --model and the trained weights as --weights) or a saved Keras model (.keras, .h5, .safetensors from Save)."
            : $"{command} reads a Caffe net from its text definition: pass the .prototxt as --model and the trained weights as --weights.";
        string tried = kerasError is null ? "" : $" Read as a Keras model it fails: {kerasError}";
        return new ArgumentException($"{path} is not a net definition (prototxt): it looks like {kind}. {advice}{tried}");
    }

    /// <summary>
    /// The saved Keras model at <paramref name="path"/> when the file is one (a .keras zip, an HDF5 or a safetensors
    /// file, told by content), null when it is text (a prototxt under any extension) or missing. A binary file that is
    /// no readable Keras model throws, naming the file, what it looks like and why it does not load.
    /// </summary>
    public static SavedKerasModel? TryLoad(string path, string command)
    {
        if (IsPrototxt(path)) return null;
        string? kind = BinaryKind(path);
        if (kind is null) return null;
        if (kind is not (SafeTensorsKind or ZipKind or Hdf5Kind)) throw NotNetText(path, command, kind, null);
        try { return Load(path); }
        catch (InvalidDataException e) { throw NotNetText(path, command, kind, e.Message); }
    }

    /// <summary>A saved Keras model, functional (<c>Model.Save</c>) or Sequential, as the inspection commands use it.</summary>
    public static SavedKerasModel Load(string path)
    {
        if (Model.IsFunctionalFile(path))
        {
            var m = Model.Load(path);
            return new SavedKerasModel(m.Name, m.Layers, m.InputShape, m.Network, m.PredictLayer, () => m.Summary(), DiagramEdges(m));
        }
        var s = Sequential.Load(path);
        var layers = s.Layers.Where(l => l is not InputLayer).ToList();
        return new SavedKerasModel(s.Name, layers, s.InputShape, s.Network, s.PredictLayer, () => s.Summary(),
            [.. layers.Zip(layers.Skip(1)).Select(p => (p.First.Name, p.Second.Name))]);
    }

    /// <summary>Each (from, to) layer pair a tensor flows along, once.</summary>
    private static List<(string From, string To)> DiagramEdges(Model model)
    {
        var edges = new List<(string, string)>();
        var seen = new HashSet<KerasTensor>();
        var stack = new Stack<KerasTensor>([model.Outputs]);
        while (stack.TryPop(out var t))
        {
            if (!seen.Add(t)) continue;
            foreach (var i in t.Inbound)
            {
                if (!edges.Contains((i.Layer.Name, t.Layer.Name))) edges.Add((i.Layer.Name, t.Layer.Name));
                stack.Push(i);
            }
        }
        edges.Reverse();
        return edges;
    }

    /// <summary>A Conv2D layer's filters in the core's (K, C, KH, KW) layout.</summary>
    public static Tensor ConvolutionWeights(string modelPath, string layerName)
    {
        var model = Load(modelPath);
        var layer = model.Layers.FirstOrDefault(l => l.Name == layerName)
            ?? throw new ArgumentException($"{modelPath} has no layer named '{layerName}'. Layers: {string.Join(", ", model.Layers.Select(l => l.Name))}.");
        if (layer.Module is not Nn.Conv2d conv)
            throw new ArgumentException($"Layer '{layerName}' of {modelPath} is a {layer.ClassName}, not a Conv2D; its Conv2D layers are " +
                $"{string.Join(", ", model.Layers.Where(l => l.Module is Nn.Conv2d).Select(l => l.Name))}.");
        return conv.Weight.Detach();
    }
}

/// <summary>What the inspection commands need of a saved Keras model, Sequential or functional.</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Layers">Its layers (a functional model's input layer first).</param>
/// <param name="InputShape">The sample shape it takes, channels-last.</param>
/// <param name="Network">The core module: weights named <c>conv2d.weight</c>, Forward on channels-first batches.</param>
/// <param name="PredictLayer">A layer's output for a channels-last batch.</param>
/// <param name="PrintSummary">Prints Keras's summary table.</param>
/// <param name="Edges">The (from, to) layer pairs tensors flow along.</param>
internal sealed record SavedKerasModel(string Name, IReadOnlyList<Layer> Layers, KerasShape InputShape, Nn.Module Network,
    Func<Tensor, string, Tensor> PredictLayer, Action PrintSummary, IReadOnlyList<(string From, string To)> Edges);
