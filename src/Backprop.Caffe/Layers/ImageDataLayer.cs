using System.Globalization;
using Backprop.Caffe.Proto;
using Backprop.Vision;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's ImageData layer: reads image files listed in <c>source</c>, a text file of lines
/// <c>path label</c> (path relative to root_folder; the label after the last space; blank lines skipped),
/// in batches of batch_size, cycling. Each image is decoded when its batch is built (PNG, JPEG, ...; BGR
/// order, or one gray channel without is_color), resized bilinearly to new_height × new_width when both are
/// set, then transformed as transform_param says (see <see cref="DataTransformer"/>). With shuffle, every pass
/// over the list uses a fresh permutation drawn from the run's seed and the pass number, so a run and its
/// resumption see the same order. rand_skip skips that many samples at the start, as in the Data layer.
/// </summary>
public sealed class ImageDataLayer(LayerParameter definition) : CaffeLayer(definition), IDataSourceLayer
{
    private readonly record struct Entry(string Path, int Label, int Line);

    private Entry[] entries = [];
    private DataTransformer transformer = null!;
    private string source = "", root = "";
    private bool color, shuffle;
    private int newHeight, newWidth, height, width, randSkip;
    private ulong seed;
    private long position;
    private long orderPass = -1;
    private int[] order = [];

    public int BatchSize { get; private set; }

    /// <summary>Number of images in the list.</summary>
    public int DatasetSize => entries.Length;

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ImageDataParam ?? throw Error("image_data_param is missing.");
        if (!p.HasSource) throw Error("image_data_param.source is missing.");
        if (p.BatchSize == 0) throw Error("image_data_param.batch_size must be positive.");
        if ((p.NewHeight == 0) != (p.NewWidth == 0))
            throw Error($"new_height ({p.NewHeight}) and new_width ({p.NewWidth}) must be set both or neither.");
        transformer = new DataTransformer(Definition.TransformParam, Where, p.Scale, p.CropSize, p.Mirror, p.HasMeanFile ? p.MeanFile : null, context.BaseDirectory);
        BatchSize = (int)p.BatchSize;
        randSkip = (int)p.RandSkip;
        shuffle = p.Shuffle;
        color = p.IsColor;
        newHeight = (int)p.NewHeight;
        newWidth = (int)p.NewWidth;
        seed = context.Seed;
        source = PathResolver.Resolve(p.Source, context.BaseDirectory);
        if (!File.Exists(source)) throw Error($"the image list {p.Source} does not exist.");
        entries = ReadList(source);
        if (entries.Length == 0) throw Error($"the image list {source} names no images.");
        root = p.RootFolder;
        if (root.Length > 0)
        {
            root = PathResolver.Resolve(root, context.BaseDirectory);
            if (!Directory.Exists(root)) root = PathResolver.Resolve(p.RootFolder, source);
        }

        // Like Caffe, the first image fixes the shape; every later one must match it.
        var first = Decode(entries[0]);
        (height, width) = (first.Height, first.Width);
        transformer.Setup(first.Channels, height, width);
        Seek(0);
        var (c, h, w) = transformer.OutputSize;
        var data = new Shape(BatchSize, c, h, w);
        return Definition.Top.Count == 2 ? [data, new Shape(BatchSize)] : [data];
    }

    /// <summary>Positions the layer at sample <paramref name="sample"/> of the endless sequence (after rand_skip).</summary>
    public void Seek(long sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        position = randSkip + sample;
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var (data, labels) = transformer.Batch(BatchSize, context.RandomFor(layerIndex), context.IsTraining, () =>
        {
            var entry = EntryAt(position++);
            var image = Decode(entry);
            if (image.Height != height || image.Width != width)
                throw Error($"image {entry.Path} (line {entry.Line} of {source}) is {image.Height}x{image.Width}, but the first image is {height}x{width}; "
                    + "all images must have one size (set new_height and new_width to resize them).");
            return (image.Pixels, entry.Label);
        });
        return Definition.Top.Count == 2 ? [data, labels] : [data];
    }

    /// <summary>The entry at position <paramref name="index"/> of the endless sequence: pass index / N, in list or shuffled order.</summary>
    private Entry EntryAt(long index)
    {
        long pass = index / entries.Length;
        int within = (int)(index % entries.Length);
        if (!shuffle) return entries[within];
        if (pass != orderPass)
        {
            order = Permutation(entries.Length, new Generator(unchecked(seed * 0xD1B54A32D192ED03UL + (ulong)pass * 0x9E3779B97F4A7C15UL + 0x1A6EDA7AUL)));
            orderPass = pass;
        }
        return entries[order[within]];
    }

    /// <summary>A Fisher–Yates shuffle of 0..n−1.</summary>
    private static int[] Permutation(int n, Generator random)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private Image Decode(Entry entry)
    {
        string path = root.Length > 0 ? Path.Combine(root, entry.Path) : PathResolver.Resolve(entry.Path, source);
        Image image;
        try { image = ImageFile.Load(path, color); }
        catch (FileNotFoundException)
        {
            throw Error($"image {path} (line {entry.Line} of {source}) does not exist.");
        }
        catch (InvalidDataException e)
        {
            throw new CaffeNetException($"{Where}: image on line {entry.Line} of {source}: {e.Message}", e);
        }
        return newHeight > 0 ? ImageResize.Bilinear(image, newHeight, newWidth) : image;
    }

    /// <summary>Reads the list: one <c>path label</c> per line, split at the last space or tab; blank lines skipped.</summary>
    private Entry[] ReadList(string file)
    {
        var result = new List<Entry>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(file))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            int split = line.LastIndexOfAny([' ', '\t']);
            if (split <= 0)
                throw Error($"line {lineNumber} of {file} is '{line}'; each line must be 'path label' (an image path, a space, an integer label).");
            string label = line[(split + 1)..];
            if (!int.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                throw Error($"line {lineNumber} of {file} has label '{label}', which is not an integer; each line must be 'path label'.");
            result.Add(new Entry(line[..split].TrimEnd(), value, lineNumber));
        }
        return [.. result];
    }
}
