using Backprop.Caffe.Proto;
using Backprop.Detection;
using Backprop.Vision;

namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's <c>roi_data_layer.layer.RoIDataLayer</c> in its end-to-end form: one image per pass from a PASCAL
/// VOC folder (JPEGImages, Annotations, ImageSets/Main/{<see cref="PyFasterRcnnConfig.VocSplit"/>}.txt). Tops: data
/// (1, 3, H, W) BGR minus PIXEL_MEANS, scaled so the shorter side is a TRAIN.SCALES value and the longer at most
/// TRAIN.MAX_SIZE; im_info (1, 3) = (H, W, scale); gt_boxes (G, 5) = VOC box − 1 (inclusive 0-based) × scale, class.
/// </summary>
/// <remarks>
/// The folder is the one given to <see cref="PyFasterRcnnLayers.Configure"/> (or <see cref="VocRoot"/>), else the
/// environment variable <see cref="VocRootVariable"/>: py-faster-rcnn's train_net.py likewise hands the layer its
/// roidb from outside the prototxt, so the prototxt stays as written. Classes: the folder's classes.txt, else VOC's
/// 20 when num_classes is 21, else the sorted object names; there must be num_classes − 1. Difficult objects are left
/// out and images without other objects skipped, as py-faster-rcnn's roidb does. With TRAIN.USE_FLIPPED every image
/// also appears mirrored; each epoch visits the images and their mirrors in an order drawn from the run's seed and the
/// epoch, so a pass depends only on the seed and the iteration.
/// </remarks>
public sealed class RoiDataLayer : PyFasterRcnnLayer
{
    /// <summary>The environment variable naming the VOC folder when none was configured.</summary>
    public const string VocRootVariable = "BACKPROP_VOC_ROOT";

    private static readonly string[] VocClasses = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
        "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"];

    private int classes;
    private string? baseDirectory;
    private VocDataset? dataset;
    private int[] images = [];   // dataset indices with at least one non-difficult object
    private int epoch = -1;
    private int[] order = [];
    private string[] classNames = [];
    private string? vocRoot;

    internal RoiDataLayer(LayerParameter definition) : base(definition) { }

    /// <summary>The VOC folder to read; null: <see cref="VocRootVariable"/>. Relative paths resolve as Caffe data sources do.</summary>
    public string? VocRoot
    {
        get => vocRoot;
        set { vocRoot = value; dataset = null; epoch = -1; }
    }

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 3);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        if (Definition.Top.Count != 3)
            throw Error($"Backprop runs RoIDataLayer in py-faster-rcnn's end-to-end form (TRAIN.HAS_RPN) with the tops data, im_info, gt_boxes; this one has {Definition.Top.Count} tops.");
        classes = ReadParams().Int("num_classes");
        if (classes < 2 || classes > 100_000) throw Error($"python_param param_str 'num_classes' must count the background and at least one class, got {classes}.");
        baseDirectory = context.BaseDirectory;
        return [new Shape(1, 3, Config.TrainScales.Max(), Config.TrainMaxSize), new Shape(1, 3), new Shape(1, 5)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var voc = Dataset();
        var cfg = Config;
        int entries = images.Length * (cfg.TrainUseFlipped ? 2 : 1);
        int e = context.Iteration / entries;
        if (e != epoch)
        {
            order = new Generator(context.Seed * 0x9E3779B97F4A7C15UL ^ 0x526F494461746121UL ^ (ulong)(uint)e).Permutation(entries);
            epoch = e;
        }
        int entry = order[context.Iteration % entries];
        int index = images[entry % images.Length];
        bool flipped = entry >= images.Length;

        var annotation = voc.Annotation(index);
        string path = voc.ImagePath(index);
        var image = ImageFile.Load(path);
        if (image.Width != annotation.Width || image.Height != annotation.Height)
            throw new InvalidDataException($"Image {path} is {image.Width}x{image.Height} but its annotation says {annotation.Width}x{annotation.Height}.");
        if (image.Channels != 3) throw new InvalidDataException($"Image {path} has {image.Channels} channels; RoIDataLayer needs colour images.");

        var random = context.RandomFor(layerIndex);
        int target = cfg.TrainScales[cfg.TrainScales.Count == 1 ? 0 : random.NextInt(cfg.TrainScales.Count)];
        int shorter = Math.Min(image.Height, image.Width), longer = Math.Max(image.Height, image.Width);
        double scale = (double)target / shorter;
        if (Math.Round(scale * longer) > cfg.TrainMaxSize) scale = (double)cfg.TrainMaxSize / longer;
        int height = Math.Max(1, (int)Math.Round(image.Height * scale)), width = Math.Max(1, (int)Math.Round(image.Width * scale));

        var pixels = image.Pixels;
        int planeSize = image.Height * image.Width;
        for (int c = 0; c < 3; c++)
            for (int i = c * planeSize; i < (c + 1) * planeSize; i++) pixels[i] -= cfg.PixelMeans[c];
        if (flipped) image = RandomFlip.Flip(image, horizontal: true, vertical: false);
        var resized = ImageResize.Bilinear(image, height, width);

        var kept = annotation.Objects.Where(o => !o.Difficult).ToList();
        var gt = new float[kept.Count * 5];
        for (int g = 0; g < kept.Count; g++)
        {
            var b = kept[g].Box;
            float x1 = b.XMin - 1, x2 = b.XMax - 1;
            if (flipped) (x1, x2) = (annotation.Width - x2 - 1, annotation.Width - x1 - 1);
            gt[5 * g] = (float)(x1 * scale);
            gt[5 * g + 1] = (float)((b.YMin - 1) * scale);
            gt[5 * g + 2] = (float)(x2 * scale);
            gt[5 * g + 3] = (float)((b.YMax - 1) * scale);
            gt[5 * g + 4] = Array.IndexOf(classNames, kept[g].Name) + 1;
        }
        return [Tensor.FromArray(resized.Pixels, 1, 3, height, width), Tensor.FromArray([height, width, (float)scale], 1, 3),
            Tensor.FromArray(gt, kept.Count, 5)];
    }

    private VocDataset Dataset()
    {
        if (dataset is not null) return dataset;
        string? root = VocRoot ?? Environment.GetEnvironmentVariable(VocRootVariable);
        if (string.IsNullOrWhiteSpace(root))
            throw Error($"no VOC folder to read: set the environment variable {VocRootVariable} to a folder holding JPEGImages, Annotations and ImageSets/Main/{Config.VocSplit}.txt (or call PyFasterRcnnLayers.Configure).");
        root = PathResolver.Resolve(root, baseDirectory);
        IReadOnlyList<string>? names = !File.Exists(Path.Combine(root, "classes.txt")) && classes == VocClasses.Length + 1 ? VocClasses : null;
        VocDataset voc;
        try { voc = new VocDataset(root, Config.VocSplit, names, useDifficult: false); }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CaffeNetException($"{Where}: cannot read the VOC folder {root}: {e.Message}", e);
        }
        if (voc.Classes.Count != classes - 1)
            throw Error($"param_str says num_classes {classes} (background included) but the VOC folder {root} has {voc.Classes.Count} classes ({string.Join(", ", voc.Classes)}).");
        images = Enumerable.Range(0, voc.Count).Where(i => voc.Annotation(i).Objects.Any(o => !o.Difficult)).ToArray();
        if (images.Length == 0) throw Error($"the VOC folder {root} (split {Config.VocSplit}) has no image with a non-difficult object to train on.");
        classNames = [.. voc.Classes];
        return dataset = voc;
    }
}
