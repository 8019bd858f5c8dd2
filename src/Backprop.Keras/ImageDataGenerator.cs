using Backprop.Vision;

namespace Backprop.Keras;

/// <summary>
/// Keras 2's <c>ImageDataGenerator</c>: augmentation and scaling for images read from class folders.
/// <code>
/// var train = new ImageDataGenerator(rescale: 1 / 255f, shearRange: 0.2f, zoomRange: 0.2f, horizontalFlip: true)
///     .FlowFromDirectory("dataset/training_set", targetSize: (64, 64), batchSize: 32, classMode: "binary");
/// </code>
/// Per image, as Keras: shear (degrees) and zoom in one warp (<see cref="RandomAffine"/>), then the flip
/// (<see cref="RandomFlip"/>), then the rescale; all on the background thread that decodes the files.
/// </summary>
public sealed class ImageDataGenerator
{
    /// <param name="rescale">Multiplies every value after augmentation (Keras's default: none, i.e. 1).</param>
    /// <param name="shearRange">Largest shear angle, in degrees as Keras 2 reads it.</param>
    /// <param name="zoomRange">Zoom factors drawn from [1 − zoomRange, 1 + zoomRange], rows and columns apart.</param>
    /// <param name="horizontalFlip">Mirror half of the images left to right.</param>
    /// <param name="verticalFlip">Mirror half of the images top to bottom.</param>
    public ImageDataGenerator(float rescale = 1f, float shearRange = 0, float zoomRange = 0, bool horizontalFlip = false, bool verticalFlip = false)
    {
        if (!float.IsFinite(rescale) || rescale == 0) throw new ArgumentOutOfRangeException(nameof(rescale), rescale, "rescale must be a finite, non-zero number.");
        var steps = new List<IImageTransform>();
        if (shearRange != 0 || zoomRange != 0) steps.Add(new RandomAffine(shearRange, zoomRange));
        if (horizontalFlip || verticalFlip) steps.Add(new RandomFlip(horizontalFlip, verticalFlip));
        Transform = steps.Count == 0 ? null : steps.Count == 1 ? steps[0] : new ComposedTransform([.. steps]);
        Rescale = rescale;
    }

    /// <summary>The per-image augmentation, or null for none.</summary>
    public IImageTransform? Transform { get; }

    /// <summary>The factor applied to the values.</summary>
    public float Rescale { get; }

    /// <summary>
    /// Reads the class folders under <paramref name="directory"/> (labels from sorted folder names) in batches of
    /// <paramref name="batchSize"/> images resized to <paramref name="targetSize"/> (default 256 × 256).
    /// <paramref name="classMode"/>: "categorical" (one-hot, the default), "binary" (two classes, y 0/1) or
    /// "sparse" (class indices). <paramref name="shuffle"/> reorders every pass from <paramref name="seed"/>.
    /// </summary>
    public DirectoryBatchSource FlowFromDirectory(string directory, (int Height, int Width)? targetSize = null, string classMode = "categorical",
        int batchSize = 32, bool shuffle = true, ulong? seed = null, IReadOnlyList<string>? classes = null)
    {
        var listing = new ImageFolderOptions { Shuffle = false, ClassNames = classes };
        return new DirectoryBatchSource(directory, targetSize ?? (256, 256), classMode, batchSize, shuffle, seed, listing, Transform, Rescale);
    }
}

/// <summary>Keras's <c>keras.utils</c> functions.</summary>
public static class KerasUtils
{
    /// <summary>
    /// Keras 3's <c>image_dataset_from_directory</c>: batches of images from class folders, resized to
    /// <paramref name="imageSize"/> (default 256 × 256), values 0..255 (add a Rescaling layer or scale yourself).
    /// <paramref name="labelMode"/>: "int" (class indices, the default), "categorical" or "binary".
    /// With <paramref name="validationSplit"/> and <paramref name="subset"/> ("training"/"validation") one side of a
    /// split made with <paramref name="seed"/> (the same seed on both sides). Augment per batch with
    /// <see cref="DirectoryBatchSource.WithAugmentation"/>; decoding and augmentation run on a background thread.
    /// </summary>
    public static DirectoryBatchSource ImageDatasetFromDirectory(string directory, string labelMode = "int", (int Height, int Width)? imageSize = null,
        int batchSize = 32, bool shuffle = true, ulong? seed = null, double validationSplit = 0, string? subset = null,
        IReadOnlyList<string>? classNames = null)
    {
        var listing = new ImageFolderOptions { Shuffle = shuffle, Seed = seed, ValidationSplit = validationSplit, Subset = subset, ClassNames = classNames };
        return new DirectoryBatchSource(directory, imageSize ?? (256, 256), labelMode, batchSize, shuffle, seed, listing, null, 1f);
    }
}
