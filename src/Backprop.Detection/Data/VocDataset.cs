using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>
/// A PASCAL VOC-layout dataset: the image ids of <c>ImageSets/Main/{split}.txt</c>, their annotations
/// <c>Annotations/{id}.xml</c> and images <c>JPEGImages/{id}.jpg</c> (or <c>.png</c>).
/// <para>
/// Classes are the given list, else <c>root/classes.txt</c> (one name per line) when present, else the sorted
/// (ordinal) distinct object names over <em>all</em> <c>Annotations/*.xml</c>, so a train and a test split of one
/// root agree on the numbering. Label k + 1 is <c>Classes[k]</c>; 0 is background.
/// </para>
/// <para>
/// Boxes become continuous 0-based coordinates: VOC's inclusive 1-based (xmin, ymin, xmax, ymax) maps to
/// (xmin − 1, ymin − 1, xmax, ymax), so x2 − x1 is the box's width in pixels and a box over the whole image is
/// (0, 0, W, H). Boxes are then clipped to the image. py-faster-rcnn keeps (xmin − 1, ..., xmax − 1) and adds 1 to
/// every width instead; torchvision's models use the continuous convention used here.
/// </para>
/// Annotations are read and checked when the dataset is built, so a bad file fails at once; images are decoded
/// by <see cref="Load"/>.
/// </summary>
public sealed class VocDataset
{
    private readonly string[] ids;
    private readonly VocAnnotation[] annotations;
    private readonly string[] imagePaths;
    private readonly string[] classes;
    private readonly Dictionary<string, int> classIndex;

    /// <param name="root">The folder holding Annotations, ImageSets and JPEGImages (VOC2007's <c>VOCdevkit/VOC2007</c>).</param>
    /// <param name="split">The image-set name: <c>ImageSets/Main/{split}.txt</c>.</param>
    /// <param name="classes">Class names in label order (label k + 1 is <c>classes[k]</c>), or null to read or derive them.</param>
    /// <param name="useDifficult">Keep objects marked difficult (flagged in <see cref="DetectionTarget.Difficult"/>); false drops them, as py-faster-rcnn's training does.</param>
    public VocDataset(string root, string split = "trainval", IReadOnlyList<string>? classes = null, bool useDifficult = true)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(split);
        if (split.Length == 0 || split.IndexOfAny(['/', '\\']) >= 0 || split.Contains(".."))
            throw new ArgumentException($"VOC split name '{split}' must be a plain name such as 'trainval' or 'test'.", nameof(split));
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"VOC root {root} does not exist.");
        Root = root;
        Split = split;
        UseDifficult = useDifficult;

        this.classes = classes is not null ? CheckClasses(classes, "the classes argument", m => new ArgumentException(m, nameof(classes))) : ReadOrDeriveClasses(root);
        classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < this.classes.Length; k++) classIndex[this.classes[k]] = k;

        ids = ReadSplit(root, split);
        annotations = new VocAnnotation[ids.Length];
        imagePaths = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            string xmlPath = Path.Combine(root, "Annotations", ids[i] + ".xml");
            annotations[i] = VocAnnotation.Parse(xmlPath);
            for (int o = 0; o < annotations[i].Objects.Count; o++)
            {
                string name = annotations[i].Objects[o].Name;
                if (!classIndex.ContainsKey(name))
                    throw new InvalidDataException($"VOC annotation {xmlPath}: object {o} has class '{name}', which is not one of the {this.classes.Length} classes ({string.Join(", ", this.classes)}).");
            }
            imagePaths[i] = FindImage(root, ids[i]);
        }
    }

    /// <summary>The dataset's folder.</summary>
    public string Root { get; }

    /// <summary>The image set read (e.g. "trainval").</summary>
    public string Split { get; }

    /// <summary>Whether difficult objects are kept.</summary>
    public bool UseDifficult { get; }

    /// <summary>Class names: label k + 1 is <c>Classes[k]</c>.</summary>
    public IReadOnlyList<string> Classes => classes;

    /// <summary>Number of images in the split.</summary>
    public int Count => ids.Length;

    /// <summary>The id of image <paramref name="index"/> (its file name without extension).</summary>
    public string Id(int index) => ids[CheckIndex(index)];

    /// <summary>The parsed annotation of image <paramref name="index"/>.</summary>
    public VocAnnotation Annotation(int index) => annotations[CheckIndex(index)];

    /// <summary>The image file of image <paramref name="index"/>.</summary>
    public string ImagePath(int index) => imagePaths[CheckIndex(index)];

    /// <summary>The ground truth of image <paramref name="index"/> without decoding the image.</summary>
    public DetectionTarget Target(int index)
    {
        var annotation = annotations[CheckIndex(index)];
        var kept = annotation.Objects.Where(o => UseDifficult || !o.Difficult).ToArray();
        return DetectionImages.Target(kept, annotation.Width, annotation.Height, o => classIndex[o.Name] + 1);
    }

    /// <summary>Decodes image <paramref name="index"/> (RGB, values / 255 in [0, 1]) with its ground truth.</summary>
    /// <exception cref="InvalidDataException">The image cannot be decoded or its size differs from the annotation's.</exception>
    public DetectionSample Load(int index)
    {
        CheckIndex(index);
        var annotation = annotations[index];
        var decoded = DetectionImages.Load(imagePaths[index]);
        if (decoded.Width != annotation.Width || decoded.Height != annotation.Height)
            throw new InvalidDataException($"Image {imagePaths[index]} is {decoded.Width}x{decoded.Height} but its annotation {Path.Combine(Root, "Annotations", ids[index] + ".xml")} says {annotation.Width}x{annotation.Height}.");
        return new DetectionSample(decoded, Target(index), ids[index]);
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)ids.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"VOC split '{Split}' of {Root} has {ids.Length} images.");
        return index;
    }

    private static string[] ReadSplit(string root, string split)
    {
        string path = Path.Combine(root, "ImageSets", "Main", split + ".txt");
        if (!File.Exists(path)) throw new FileNotFoundException($"VOC split file {path} does not exist.", path);
        var result = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            string trimmed = line.Trim();
            if (trimmed.Length == 0) continue;
            // Per-class lists write "id  1"; the first column is the id.
            string id = trimmed.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0];
            if (id.IndexOfAny(['/', '\\']) >= 0 || id == "." || id == "..")
                throw new InvalidDataException($"VOC split file {path} line {lineNumber}: '{id}' is not a plain image id.");
            result.Add(id);
        }
        return result.ToArray();
    }

    private static string FindImage(string root, string id)
    {
        string jpg = Path.Combine(root, "JPEGImages", id + ".jpg");
        if (File.Exists(jpg)) return jpg;
        string png = Path.Combine(root, "JPEGImages", id + ".png");
        if (File.Exists(png)) return png;
        throw new FileNotFoundException($"VOC image for id '{id}' not found: neither {jpg} nor {png} exists.", jpg);
    }

    private static string[] ReadOrDeriveClasses(string root)
    {
        string listPath = Path.Combine(root, "classes.txt");
        if (File.Exists(listPath))
        {
            var names = File.ReadLines(listPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            return CheckClasses(names, listPath, m => new InvalidDataException(m));
        }
        string annotationDir = Path.Combine(root, "Annotations");
        if (!Directory.Exists(annotationDir)) throw new DirectoryNotFoundException($"VOC annotations folder {annotationDir} does not exist.");
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(annotationDir, "*.xml"))
            foreach (var o in VocAnnotation.Parse(file).Objects) found.Add(o.Name);
        if (found.Count == 0) throw new InvalidDataException($"VOC annotations in {annotationDir} name no objects, so no classes can be derived; pass the classes or write {listPath}.");
        return found.ToArray();
    }

    private static string[] CheckClasses(IReadOnlyList<string> names, string source, Func<string, Exception> error)
    {
        if (names.Count == 0) throw error($"VOC classes from {source} are empty.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (string.IsNullOrWhiteSpace(name)) throw error($"VOC classes from {source} contain an empty name.");
            if (!seen.Add(name)) throw error($"VOC classes from {source} name '{name}' twice.");
        }
        return names.ToArray();
    }

    public override string ToString() => $"VocDataset({Root}, {Split}, {Count} images, {classes.Length} classes)";
}
