using Backprop.Caffe.Proto;
using Backprop.Vision;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's WindowData layer (R-CNN fine-tuning): each batch is batch_size windows drawn at random from the window
/// file (see <see cref="WindowFile"/>) — first the (1 − fg_fraction) share from background windows, then
/// ⌊batch_size · fg_fraction⌋ from foreground ones — each cut from its image and warped to crop_size × crop_size
/// (<see cref="WindowCrop"/>: crop_mode warp or square, context_pad), flipped left-right at random with mirror, then
/// (pixel − mean_value[c]) · scale. Labels: the window's class, 0 for background. Images are decoded in colour (BGR)
/// through Backprop.Vision when their window is drawn, or once at setup with cache_images. A data layer: no backward.
/// </summary>
/// <remarks>
/// crop_size, mirror and scale come from transform_param, else from window_data_param's own copies (where older
/// prototxts put them). As in Caffe, mirror applies in every phase. Random draws, per sample: the window, then the
/// mirror coin (with mirror).
/// </remarks>
public sealed class WindowDataLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private WindowFile windows = null!;
    private Image?[] cache = [];
    private float[] mean = [];
    private MeanImage? meanImage;
    private string source = "";
    private int cropSize, contextPad, foregroundCount;
    private bool mirror, square, cacheImages;
    private float scale;

    /// <summary>Windows per batch.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Foreground windows in the file (overlap ≥ fg_threshold).</summary>
    public int ForegroundWindows => windows?.Foreground.Count ?? 0;

    /// <summary>Background windows in the file (overlap &lt; bg_threshold).</summary>
    public int BackgroundWindows => windows?.Background.Count ?? 0;

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);

    private const int Channels = 3;   // images are read in colour, as Caffe's imread(CV_LOAD_IMAGE_COLOR)

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.WindowDataParam ?? throw Error("window_data_param is missing.");
        var t = Definition.TransformParam ?? new TransformationParameter();
        if (!p.HasSource) throw Error("window_data_param.source is missing.");
        if (p.BatchSize == 0) throw Error("window_data_param.batch_size must be positive.");
        if (p.HasMeanFile && !t.HasMeanFile) throw Error("window_data_param.mean_file is not read (as in Caffe); give transform_param.mean_file.");
        BatchSize = (int)p.BatchSize;
        cropSize = (int)(t.HasCropSize ? t.CropSize : p.CropSize);
        if (cropSize <= 0) throw Error("crop_size must be positive: each window is warped to crop_size x crop_size (set transform_param.crop_size).");
        mirror = t.HasMirror ? t.Mirror : p.Mirror;
        scale = t.HasScale ? t.Scale : p.Scale;
        contextPad = (int)p.ContextPad;
        if (2L * contextPad >= cropSize) throw Error($"context_pad {contextPad} leaves no room for the window in a {cropSize}x{cropSize} crop (it must be below crop_size / 2).");
        square = p.CropMode switch
        {
            "warp" => false,
            "square" => true,
            _ => throw Error($"crop_mode '{p.CropMode}' is not one of warp, square."),
        };
        if (!(p.FgFraction >= 0 && p.FgFraction <= 1)) throw Error($"fg_fraction {p.FgFraction} must lie in [0, 1].");
        if (t.MeanValue.Count is not (0 or 1 or Channels)) throw Error($"mean_value needs 1 or {Channels} values, got {t.MeanValue.Count}.");
        mean = Enumerable.Range(0, Channels).Select(c => t.MeanValue.Count == 0 ? 0f : t.MeanValue[t.MeanValue.Count == 1 ? 0 : c]).ToArray();
        if (t.HasMeanFile)
        {
            if (t.MeanValue.Count > 0) throw Error("give mean_file or mean_value, not both.");
            meanImage = MeanImage.Load(PathResolver.Resolve(t.MeanFile, context.BaseDirectory));
            int offset = (meanImage.Width - cropSize) / 2;
            if (meanImage.Channels != Channels || meanImage.Width < cropSize || offset + cropSize > meanImage.Height)
                throw Error($"the mean file {t.MeanFile} is {meanImage.Channels} x {meanImage.Height} x {meanImage.Width}; windows need {Channels} channels and a centre {cropSize} x {cropSize} square.");
        }

        source = PathResolver.Resolve(p.Source, context.BaseDirectory);
        if (!File.Exists(source)) throw Error($"the window file {p.Source} does not exist.");
        string root = p.RootFolder.Length > 0 ? PathResolver.Resolve(p.RootFolder, context.BaseDirectory) : "";
        if (root.Length > 0 && Directory.Exists(root) && !root.EndsWith(Path.DirectorySeparatorChar)) root += Path.DirectorySeparatorChar;
        windows = WindowFile.Read(source, root, p.FgThreshold, p.BgThreshold, Where);
        foreach (var image in windows.Images)
            if (image.Channels != Channels)
                throw Error($"line {image.Line} of {source}: image {image.Path} is declared with {image.Channels} channels; WindowData reads images in colour ({Channels} channels).");

        foregroundCount = (int)(BatchSize * p.FgFraction);
        if (foregroundCount > 0 && windows.Foreground.Count == 0)
            throw Error($"the window file {source} has no foreground windows (overlap >= fg_threshold {p.FgThreshold}), but fg_fraction {p.FgFraction} asks for {foregroundCount} a batch.");
        if (BatchSize - foregroundCount > 0 && windows.Background.Count == 0)
            throw Error($"the window file {source} has no background windows (overlap < bg_threshold {p.BgThreshold}), but fg_fraction {p.FgFraction} asks for {BatchSize - foregroundCount} a batch.");
        cacheImages = p.CacheImages;
        cache = new Image?[windows.Images.Count];
        if (cacheImages)
            for (int i = 0; i < cache.Length; i++) cache[i] = Decode(i);

        var data = new Shape(BatchSize, Channels, cropSize, cropSize);
        return Definition.Top.Count == 2 ? [data, new Shape(BatchSize)] : [data];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var random = context.RandomFor(layerIndex);
        var data = Tensor.Zeros(BatchSize, Channels, cropSize, cropSize);
        var labels = Tensor.Empty(BatchSize);
        var d = data.AsSpan();
        var l = labels.AsSpan();
        int sampleSize = Channels * cropSize * cropSize;
        var decoded = new Dictionary<int, Image>();   // an image with several windows drawn is decoded once a batch
        for (int n = 0; n < BatchSize; n++)
        {
            var pool = n < BatchSize - foregroundCount ? windows.Background : windows.Foreground;   // background first, as Caffe
            var window = pool[random.NextInt(pool.Count)];
            bool flip = mirror && random.NextInt(2) == 1;
            var image = cache[window.Image] ?? decoded.GetValueOrDefault(window.Image) ?? (decoded[window.Image] = Decode(window.Image));
            var placement = WindowCrop.Place(window.X1, window.Y1, window.X2, window.Y2, image.Width, image.Height, cropSize, contextPad, square, flip)
                ?? throw Error($"line {window.Line} of {source}: window ({window.X1}, {window.Y1})-({window.X2}, {window.Y2}) does not lie within its {image.Width}x{image.Height} image {windows.Images[window.Image].Path}.");
            WindowCrop.Write(image, placement, cropSize, flip, mean, scale, d.Slice(n * sampleSize, sampleSize), meanImage);
            l[n] = window.Label;
        }
        return Definition.Top.Count == 2 ? [data, labels] : [data];
    }

    private Image Decode(int index)
    {
        var entry = windows.Images[index];
        string path = PathResolver.Resolve(entry.Path, source);
        try { return ImageFile.Load(path, color: true); }
        catch (FileNotFoundException)
        {
            throw Error($"image {path} (line {entry.Line} of {source}) does not exist.");
        }
        catch (InvalidDataException e)
        {
            throw new CaffeNetException($"{Where}: image on line {entry.Line} of {source}: {e.Message}", e);
        }
    }
}
