using Backprop.Vision;

namespace Backprop.Keras;

/// <summary>
/// Image files from a folder of class folders, fed to Fit batch by batch: what Keras 2's
/// <c>flow_from_directory</c> (a <c>DirectoryIterator</c>) and Keras 3's <c>image_dataset_from_directory</c> return.
/// Files are decoded, resized, augmented and scaled on a background thread, a few batches ahead of the training
/// step (<see cref="ImageFileBatches"/>). x is (B, height, width, 3) RGB; y depends on the label mode:
/// "binary" (B, 1) floats 0/1 (two classes), "categorical" one-hot (B, K), "sparse" or "int" class indices.
/// With shuffling, each pass draws a new order from the seed, so a seed repeats the run.
/// </summary>
public sealed class DirectoryBatchSource : IBatchSource
{
    private readonly ImageFileBatches reader;
    private readonly int[] labels;
    private readonly string[] classNames, files;
    private readonly string labelMode;
    private readonly ulong seed;

    internal DirectoryBatchSource(string directory, (int Height, int Width) size, string labelMode, int batchSize, bool shuffle,
        ulong? seed, ImageFolderOptions listing, IImageTransform? transform, float scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var (names, paths, ys) = ImageFolder.ListFiles(directory, listing);
        classNames = [.. names];
        files = [.. paths];
        labels = [.. ys];
        this.labelMode = labelMode switch
        {
            "binary" or "categorical" => labelMode,
            "sparse" or "int" => "sparse",
            _ => throw new ArgumentException($"Unknown class mode '{labelMode}': use binary, categorical, sparse (or int)."),
        };
        if (this.labelMode == "binary" && classNames.Length != 2)
            throw new ArgumentException($"Class mode 'binary' needs exactly 2 class folders, but {directory} has {classNames.Length}: {string.Join(", ", classNames)}.");
        BatchSize = batchSize;
        Shuffle = shuffle;
        this.seed = seed ?? (ulong)Random.Shared.NextInt64();
        Directory = directory;
        reader = new ImageFileBatches(files, size, transform, scale);
    }

    private DirectoryBatchSource(DirectoryBatchSource from, ImageFileBatches reader)
    {
        (labels, classNames, files, labelMode, seed) = (from.labels, from.classNames, from.files, from.labelMode, from.seed);
        (BatchSize, Shuffle, Directory) = (from.BatchSize, from.Shuffle, from.Directory);
        this.reader = reader;
    }

    /// <summary>The folder read.</summary>
    public string Directory { get; }

    /// <summary>Class names in label order (sorted folder names).</summary>
    public IReadOnlyList<string> ClassNames => classNames;

    /// <summary>Each class name's label (Keras's <c>class_indices</c>).</summary>
    public IReadOnlyDictionary<string, int> ClassIndices => classNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);

    /// <summary>Number of images (Keras's <c>samples</c>).</summary>
    public int Samples => files.Length;

    /// <summary>The label of each file, in file order (Keras's <c>classes</c>).</summary>
    public IReadOnlyList<int> Labels => labels;

    /// <summary>The files, in label order.</summary>
    public IReadOnlyList<string> FilePaths => files;

    /// <summary>Images per batch (the last batch of a pass may be smaller).</summary>
    public int BatchSize { get; }

    /// <summary>Whether each pass is reshuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The per-image augmentation, or null.</summary>
    public IImageTransform? Transform => reader.Transform;

    /// <summary>The reader that decodes on the background thread.</summary>
    internal ImageFileBatches Reader => reader;

    /// <inheritdoc/>
    public int BatchesPerEpoch => (files.Length + BatchSize - 1) / BatchSize;

    /// <summary>
    /// The same files with augmentation applied per image, on the background thread (Keras 3's
    /// <c>dataset.map(lambda x, y: (augmentation(x), y))</c> with <c>RandomFlip</c>, <c>RandomZoom</c>, shear...).
    /// Transforms run in the order given and must keep the size.
    /// </summary>
    public DirectoryBatchSource WithAugmentation(params IImageTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        IImageTransform combined = reader.Transform is null ? new ComposedTransform(transforms) : new ComposedTransform([reader.Transform, .. transforms]);
        if (combined.OutputSize(reader.Size.Height, reader.Size.Width) != reader.Size)
            throw new ArgumentException($"The augmentation {combined} changes the image size {reader.Size}; Fit needs every batch the same size.", nameof(transforms));
        return new DirectoryBatchSource(this, new ImageFileBatches(files, reader.Size, combined, reader.Scale, reader.Prefetch));
    }

    /// <inheritdoc/>
    public IEnumerable<KerasBatch> Batches(int pass)
    {
        // Each pass has its own order and augmentation draws, both fixed by the seed and the pass.
        var passGenerator = new Generator(seed + (ulong)pass * 0xD1B54A32D192ED03UL);
        var order = Shuffle ? passGenerator.Permutation(files.Length) : Enumerable.Range(0, files.Length).ToArray();
        int start = 0;
        foreach (var x in reader.Read(order, BatchSize, passGenerator.NextUInt64()))
        {
            int count = x.Shape[0];
            var batchLabels = new int[count];
            for (int i = 0; i < count; i++) batchLabels[i] = labels[order[start + i]];
            start += count;
            yield return labelMode switch
            {
                "sparse" => new KerasBatch(x, null, batchLabels),
                "binary" => new KerasBatch(x, Tensor.FromArray(Array.ConvertAll(batchLabels, l => (float)l), count, 1)),
                _ => new KerasBatch(x, OneHot(batchLabels, classNames.Length)),
            };
        }
    }

    private static Tensor OneHot(int[] labels, int classes)
    {
        var values = new float[labels.Length * classes];
        for (int i = 0; i < labels.Length; i++) values[i * classes + labels[i]] = 1f;
        return Tensor.FromArray(values, labels.Length, classes);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Found {files.Length} images belonging to {classNames.Length} classes.";
}
