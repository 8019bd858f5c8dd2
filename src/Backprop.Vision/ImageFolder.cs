namespace Backprop.Vision;

/// <summary>
/// Reads a folder holding one subfolder per class, as Keras's <c>image_dataset_from_directory</c> does:
/// <code>
/// directory/
///   circles/  a.png b.jpg ...
///   squares/  c.png ...
/// </code>
/// The class folders sorted by name give labels 0..K-1 (circles 0, squares 1). Each class folder is searched with
/// its subfolders, in name order, for files ending in .png, .jpg, .jpeg, .bmp or .gif (any case, Keras's list);
/// other files are ignored. Images are decoded in RGB order (<see cref="ImageFile"/>, alpha dropped), resized to the
/// requested size with <see cref="ImageResize.Bilinear"/> (half-pixel centres, no antialiasing, as Keras's
/// <c>tf.image.resize</c>) so images of mixed sizes are fine, and kept as floats 0..255.
/// </summary>
/// <remarks>
/// The order and the split follow Keras: the files of all classes, class by class, are shuffled once with the
/// seed (when <see cref="ImageFolderOptions.Shuffle"/>), and the last <c>floor(ValidationSplit · N)</c> of them are
/// the validation subset, the others the training subset. The same seed therefore gives two disjoint subsets that
/// together hold every file. The shuffle uses Backprop's <see cref="Generator"/>, not NumPy's, so the order is
/// Keras's rule but not Keras's draw.
/// </remarks>
public static class ImageFolder
{
    /// <summary>The extensions read, as Keras's <c>ALLOWLIST_FORMATS</c>.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];

    /// <summary>
    /// Loads the images under <paramref name="directory"/> (all of them, or one subset of a validation split),
    /// resized to <paramref name="imageSize"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory, or a folder named in <see cref="ImageFolderOptions.ClassNames"/>, does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folders, a class folder without images, a subset left empty by the split, or an image that cannot be decoded (the message names the folder or file).</exception>
    /// <exception cref="ArgumentException">Options that do not go together (Keras's checks).</exception>
    public static ImageFolderDataset Load(string directory, (int Height, int Width) imageSize, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        CheckSize(imageSize);
        var subset = options.Subset;
        CheckSplit(options, subset is null or "training" or "validation", "\"training\" or \"validation\" (use LoadSplit for both)");
        var index = Index(directory, options);
        var (training, validation) = Split(index.Files.Length, options.ValidationSplit, directory);
        var range = subset == "validation" ? validation : training;
        return Decode(index, range, imageSize, subset ?? "all");
    }

    /// <summary>
    /// Loads both subsets of a validation split at once (Keras's <c>subset="both"</c>): the training images and the
    /// validation images, disjoint, together every image. <see cref="ImageFolderOptions.Subset"/> must be null or "both".
    /// </summary>
    public static (ImageFolderDataset Training, ImageFolderDataset Validation) LoadSplit(string directory, (int Height, int Width) imageSize, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckSize(imageSize);
        if (options.ValidationSplit == 0)
            throw new ArgumentException("LoadSplit needs a ValidationSplit between 0 and 1.", nameof(options));
        CheckSplit(options, options.Subset is null or "both", "null or \"both\" for LoadSplit", splitImpliesSubset: false);
        var index = Index(directory, options);
        var (training, validation) = Split(index.Files.Length, options.ValidationSplit, directory);
        return (Decode(index, training, imageSize, "training"), Decode(index, validation, imageSize, "validation"));
    }

    /// <summary>
    /// The files Load would read, without decoding them: the class names, and each file with its label, in Load's
    /// order (shuffled with the seed, one subset of a split), for readers that decode batch by batch.
    /// </summary>
    public static (IReadOnlyList<string> ClassNames, IReadOnlyList<string> Files, IReadOnlyList<int> Labels) ListFiles(string directory, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        CheckSplit(options, options.Subset is null or "training" or "validation", "\"training\" or \"validation\"");
        var index = Index(directory, options);
        var (training, validation) = Split(index.Files.Length, options.ValidationSplit, directory);
        var range = options.Subset == "validation" ? validation : training;
        return (index.ClassNames, index.Files[range], index.Labels[range]);
    }

    private static void CheckSize((int Height, int Width) imageSize)
    {
        if (imageSize.Height <= 0 || imageSize.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "The image size must be positive.");
    }

    /// <summary>Keras's <c>check_validation_split_arg</c>.</summary>
    private static void CheckSplit(ImageFolderOptions options, bool subsetValid, string subsetRule, bool splitImpliesSubset = true)
    {
        double split = options.ValidationSplit;
        if (split != 0 && !(split > 0 && split < 1))
            throw new ArgumentException($"ValidationSplit must be between 0 and 1 (exclusive), got {split}.", nameof(options));
        if (!subsetValid)
            throw new ArgumentException($"Subset must be {subsetRule}, got \"{options.Subset}\".", nameof(options));
        if (splitImpliesSubset && (split != 0) != (options.Subset is not null))
            throw new ArgumentException("If Subset is set, ValidationSplit must be set, and inversely.", nameof(options));
        if (split != 0 && options.Shuffle && options.Seed is null)
            throw new ArgumentException("With a ValidationSplit and shuffling, give a Seed, so that the training and validation subsets do not overlap.", nameof(options));
    }

    /// <summary>The files of every class, class by class, then shuffled with the seed when asked.</summary>
    private static FolderIndex Index(string directory, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Image folder {directory} does not exist.");
        string[] classNames;
        if (options.ClassNames is { } given)
        {
            if (given.Count == 0) throw new ArgumentException("ClassNames is empty; leave it null to use every subfolder.", nameof(options));
            if (given.Distinct(StringComparer.Ordinal).Count() != given.Count)
                throw new ArgumentException($"ClassNames lists a class twice: {string.Join(", ", given)}.", nameof(options));
            classNames = [.. given];
            foreach (var name in classNames)
                if (!Directory.Exists(Path.Combine(directory, name)))
                    throw new DirectoryNotFoundException($"Class folder {Path.Combine(directory, name)} (from ClassNames) does not exist.");
        }
        else
        {
            classNames = [.. Directory.GetDirectories(directory).Select(d => Path.GetFileName(d)!)];
            Array.Sort(classNames, StringComparer.Ordinal);
            if (classNames.Length == 0)
                throw new InvalidDataException($"Image folder {directory} has no class folders: put the images of each class in a subfolder named after the class.");
        }

        var files = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classNames.Length; label++)
        {
            string classFolder = Path.Combine(directory, classNames[label]);
            var found = ImagesUnder(classFolder);
            if (found.Count == 0)
                throw new InvalidDataException($"Class folder {classFolder} (class '{classNames[label]}') holds no images ({string.Join(", ", Extensions)}).");
            files.AddRange(found);
            labels.AddRange(Enumerable.Repeat(label, found.Count));
        }

        var order = Enumerable.Range(0, files.Count).ToArray();
        if (options.Shuffle)
            order = new Generator(options.Seed ?? (ulong)Random.Shared.NextInt64()).Permutation(files.Count);
        return new FolderIndex(classNames, [.. order.Select(i => files[i])], [.. order.Select(i => labels[i])]);
    }

    /// <summary>The image files under a folder and its subfolders: folders in path order, files in name order in each (as Keras walks).</summary>
    private static List<string> ImagesUnder(string folder)
    {
        var folders = new List<string> { folder };
        // Subfolders that are links are not followed (Keras's follow_links=False), so a link loop cannot hang the walk.
        folders.AddRange(Directory.GetDirectories(folder, "*", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            IgnoreInaccessible = false,
        }));
        folders.Sort(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var f in folders)
        {
            var names = Directory.GetFiles(f).Where(IsImage).ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            result.AddRange(names);
        }
        return result;
    }

    private static bool IsImage(string path)
    {
        string extension = Path.GetExtension(path);
        foreach (var e in Extensions)
            if (extension.Equals(e, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>The training range (first N − V files) and validation range (last V = floor(split · N) files).</summary>
    private static (Range Training, Range Validation) Split(int count, double validationSplit, string directory)
    {
        if (validationSplit == 0) return (.., 0..0);
        int validation = (int)(validationSplit * count);
        if (validation == 0 || validation == count)
            throw new InvalidDataException($"A validation split of {validationSplit} of the {count} images in {directory} leaves {(validation == 0 ? "no validation" : "no training")} images.");
        return (..(count - validation), (count - validation)..);
    }

    /// <summary>Decodes the files in <paramref name="range"/> in parallel (each into its own slot, so the result does not depend on scheduling).</summary>
    private static ImageFolderDataset Decode(FolderIndex index, Range range, (int Height, int Width) size, string subset)
    {
        var (start, n) = range.GetOffsetAndLength(index.Files.Length);
        const int channels = 3;
        long perImage = (long)size.Height * size.Width * channels;
        if (perImage * n > Array.MaxLength)
            throw new InvalidOperationException($"{n} images of {size.Height}x{size.Width}x{channels} ({perImage * n} values) do not fit in one tensor; load a smaller size or fewer images.");
        var images = Tensor.Zeros(n, size.Height, size.Width, channels);
        var errors = new Exception?[n];
        Parallel.For(0, n, i =>
        {
            try
            {
                var image = ImageFile.Load(index.Files[start + i], color: true, ChannelOrder.Rgb);
                if (image.Height != size.Height || image.Width != size.Width)
                    image = ImageResize.Bilinear(image, size.Height, size.Width);
                WriteChannelsLast(image, images.AsSpan().Slice((int)(i * perImage), (int)perImage));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e;
            }
        });
        for (int i = 0; i < n; i++)
            if (errors[i] is { } e)
            {
                string className = index.ClassNames[index.Labels[start + i]];
                throw new InvalidDataException($"{e.Message} (class '{className}', {subset} images)", e);
            }
        return new ImageFolderDataset(images, index.Labels[range], index.Files[range], index.ClassNames);
    }

    private static void WriteChannelsLast(Image image, Span<float> destination)
    {
        int c = image.Channels, plane = image.Height * image.Width;
        var pixels = image.Pixels;
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < plane; p++)
                destination[p * c + ch] = pixels[ch * plane + p];
    }

    private sealed record FolderIndex(string[] ClassNames, string[] Files, int[] Labels);
}
