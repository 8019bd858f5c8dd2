using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Vision;

namespace Backprop.Viz;

/// <summary>
/// Loading Caffe nets to look inside them: a net's data layers replaced by an Input layer of a given shape (so a
/// net whose LMDB is elsewhere still builds), a net cut after a layer, a conv layer's filters read from a
/// .caffemodel, an image prepared as the net's data layer prepares its inputs, and the feature maps it gives.
/// </summary>
public static class CaffeInspection
{
    /// <summary>Layer types that read a dataset; <see cref="WithInput"/> replaces them.</summary>
    public static readonly IReadOnlySet<string> DataSourceTypes = new HashSet<string>(StringComparer.Ordinal)
        { "Data", "ImageData", "HDF5Data", "MemoryData", "WindowData" };

    /// <summary>Parses a net prototxt.</summary>
    public static NetParameter ReadNet(string path) => NetUpgrade.ReadTextFile(path);   // V0/V1 files upgraded, as Caffe reads them

    /// <summary>
    /// A copy of <paramref name="net"/> whose input in <paramref name="phase"/> is an Input layer: the first
    /// data-source layer (Data, ImageData, …), Input layer or net-level input of that phase becomes an Input layer
    /// of the same name and tops, its first top of shape <paramref name="inputShape"/> (N, C, H, W) and any
    /// further top (the label) of shape (N). Other layers are kept as they are.
    /// </summary>
    public static NetParameter WithInput(NetParameter net, Phase phase, IReadOnlyList<int> inputShape)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count < 1 || inputShape.Any(d => d <= 0))
            throw new ArgumentException($"An input shape needs positive dimensions, got ({string.Join(", ", inputShape)}).");
        var copy = net.Clone();
        var state = new NetState { Phase = phase };
        if (copy.Input.Count > 0)
        {
            var legacy = new LayerParameter { Name = "input", Type = "Input" };
            legacy.Top.Add(copy.Input);
            copy.Input.Clear();
            copy.InputShape.Clear();
            copy.InputDim.Clear();
            copy.Layer.Insert(0, legacy);
        }
        int index = -1;
        for (int i = 0; i < copy.Layer.Count && index < 0; i++)
            if ((DataSourceTypes.Contains(copy.Layer[i].Type) || copy.Layer[i].Type == "Input") && NetStateFilter.Includes(copy.Layer[i], state))
                index = i;
        if (index < 0)
            throw new CaffeNetException($"Net '{net.Name}' has no data or Input layer in the {phase} phase to feed.");
        var old = copy.Layer[index];
        var input = new LayerParameter { Name = old.Name, Type = "Input", InputParam = new InputParameter() };
        input.Top.Add(old.Top);
        input.Include.Add(old.Include);
        input.Exclude.Add(old.Exclude);
        for (int t = 0; t < old.Top.Count; t++)
        {
            var shape = new BlobShape();
            foreach (int d in t == 0 ? inputShape : [inputShape[0]]) shape.Dim.Add(d);
            input.InputParam.Shape.Add(shape);
        }
        copy.Layer[index] = input;
        return copy;
    }

    /// <summary>A copy of <paramref name="net"/> holding only the layers of <paramref name="phase"/> up to and including <paramref name="layer"/>.</summary>
    public static NetParameter CutAfter(NetParameter net, Phase phase, string layer)
    {
        ArgumentNullException.ThrowIfNull(net);
        var state = new NetState { Phase = phase };
        var kept = net.Layer.Where(l => NetStateFilter.Includes(l, state)).ToList();
        int index = kept.FindIndex(l => l.Name == layer);
        if (index < 0) throw new CaffeNetException($"Net '{net.Name}' has no layer '{layer}' in the {phase} phase; its layers are {string.Join(", ", kept.Select(l => l.Name))}.");
        var copy = net.Clone();
        copy.Layer.Clear();
        copy.Layer.Add(kept.Take(index + 1));
        return copy;
    }

    /// <summary>
    /// Builds the <paramref name="phase"/> net. With <paramref name="inputShape"/> the data layers are replaced (see
    /// <see cref="WithInput"/>); without it they must be able to read their data (relative paths are tried against
    /// <paramref name="baseDirectory"/>). Fillers draw from seed 0.
    /// </summary>
    public static CaffeNet Build(NetParameter net, Phase phase, IReadOnlyList<int>? inputShape = null, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        var definition = inputShape is null ? net : WithInput(net, phase, inputShape);
        var context = new NetContext(phase) { BaseDirectory = baseDirectory };
        try
        {
            return CaffeNet.Build(definition, new NetState { Phase = phase }, new Generator(0), context);
        }
        catch (Exception e) when (inputShape is null && IsDataError(e) && definition.Layer.Any(l => DataSourceTypes.Contains(l.Type)))
        {
            throw new CaffeNetException($"{e.Message} To look at the net without its data, give the input shape (--input-shape N,C,H,W).", e);
        }
    }

    private static bool IsDataError(Exception e) =>
        e is CaffeNetException or IOException or InvalidDataException or UnauthorizedAccessException;

    /// <summary>The input shape (N, C, H, W) of a built net: the shape of its first layer's first top.</summary>
    public static Shape InputShapeOf(CaffeNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (net.Layers.Count == 0) throw new CaffeNetException($"Net '{net.Name}' has no layers.");
        var (_, tops) = net.Connections(0);
        var shape = net.BlobShapes[tops[0]];
        if (shape.Rank != 4) throw new CaffeNetException($"Net '{net.Name}' takes input '{tops[0]}' of shape {shape}, not an image batch (N, C, H, W).");
        return shape;
    }

    /// <summary>
    /// The first blob (the weights) of layer <paramref name="layer"/> in a .caffemodel, with its stored shape:
    /// (K, C, KH, KW) for a convolution.
    /// </summary>
    public static Tensor ReadLayerWeights(NetParameter trained, string layer, string source)
    {
        ArgumentNullException.ThrowIfNull(trained);
        var found = trained.Layer.FirstOrDefault(l => l.Name == layer)
            ?? throw new CaffeNetException($"{source} has no layer '{layer}'; layers with weights: {string.Join(", ", trained.Layer.Where(l => l.Blobs.Count > 0).Select(l => $"{l.Name} ({l.Type})"))}.");
        if (found.Blobs.Count == 0) throw new CaffeNetException($"{source}: layer '{layer}' ({found.Type}) holds no weights.");
        var blob = found.Blobs[0];
        int[] dims = blob.Shape is not null ? blob.Shape.Dim.Select(d => d is < 0 or > int.MaxValue
                ? throw new CaffeNetException($"{source}: layer '{layer}' blob 0 has a dimension {d} out of range.") : (int)d).ToArray()
            : [blob.Num, blob.Channels, blob.Height, blob.Width];
        var shape = new Shape(dims);
        return Tensor.FromArray(BlobProtos.Values(blob, shape, $"{source}: layer '{layer}' blob 0"), dims);
    }

    /// <summary>
    /// An image file as the net's data layer in <paramref name="phase"/> would give it to the net: decoded (colour
    /// BGR for 3 channels, luma for 1), resized bilinearly to H × W, then the layer's transform_param applied
    /// (mean_value subtracted, scale multiplied). Returns (1, C, H, W).
    /// </summary>
    public static Tensor PrepareImage(string imagePath, NetParameter net, Phase phase, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (channels is not (1 or 3)) throw new CaffeNetException($"Net '{net.Name}' takes {channels}-channel input; an image gives 1 (gray) or 3 (BGR).");
        var image = ImageFile.Load(imagePath, color: channels == 3);
        if (image.Height != height || image.Width != width) image = ImageResize.Bilinear(image, height, width);
        var state = new NetState { Phase = phase };
        var data = net.Layer.FirstOrDefault(l => DataSourceTypes.Contains(l.Type) && NetStateFilter.Includes(l, state));
        var transformer = new DataTransformer(data?.TransformParam, $"Layer '{data?.Name}' (type {data?.Type})",
            data?.DataParam?.Scale ?? 1, 0, false, null);
        transformer.Setup(channels, height, width);
        var result = new float[channels * height * width];
        transformer.Transform(image.Pixels, result, new Generator(0), training: false);
        return Tensor.FromArray(result, 1, channels, height, width);
    }

    /// <summary>
    /// The output (1, C, H, W) of layer <paramref name="layer"/> for one prepared image: the TEST net cut after that
    /// layer, its data layer replaced by an Input layer of the image's shape, weights copied from <paramref name="trained"/>
    /// (reported and checked as <paramref name="loading"/> says; by default silently, refusing NaN or infinite weights).
    /// </summary>
    public static Tensor FeatureMapsAt(NetParameter net, NetParameter trained, string weightsSource, Tensor image, string layer, WeightLoading? loading = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var cut = CutAfter(net, Phase.Test, layer);
        var built = Build(cut, Phase.Test, image.Shape.ToArray());
        built.CopyTrainedLayersFrom(trained, weightsSource, loading);
        var context = new NetContext(Phase.Test);
        var (_, inputTops) = built.Connections(0);
        context.Inputs[inputTops[0]] = image;
        for (int t = 1; t < inputTops.Count; t++) context.Inputs[inputTops[t]] = Tensor.Zeros(image.Shape[0]);
        using (Autograd.Autograd.NoGrad())
        {
            var result = built.Forward(context);
            var (_, tops) = built.Connections(built.Layers.Count - 1);
            return result.Blobs[tops[0]];
        }
    }
}
