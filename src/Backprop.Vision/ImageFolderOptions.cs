namespace Backprop.Vision;

/// <summary>
/// How <see cref="ImageFolder.Load"/> reads a folder of class folders; the names and defaults are those of Keras's
/// <c>image_dataset_from_directory</c>.
/// </summary>
public sealed record ImageFolderOptions
{
    /// <summary>
    /// Fraction of the images, strictly between 0 and 1, kept for validation (Keras's <c>validation_split</c>);
    /// 0 (the default) keeps every image. Needs <see cref="Subset"/>.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>
    /// Which side of the split to load: <c>"training"</c> or <c>"validation"</c> (Keras's <c>subset</c>); null when
    /// there is no split. For both at once use <see cref="ImageFolder.LoadSplit"/>.
    /// </summary>
    public string? Subset { get; init; }

    /// <summary>
    /// Shuffle the file list once, with <see cref="Seed"/>, before splitting (Keras's <c>shuffle</c>, default true).
    /// Without shuffling the images come class by class, each class's files in name order, and a validation split
    /// takes the files at the end, i.e. from the last classes only (as in Keras).
    /// </summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Seed of the shuffle. The same seed gives the same order and so the same split on every run: load the
    /// training and the validation subsets with the same seed. Required with a validation split and shuffling;
    /// otherwise null draws a fresh seed (as Keras).
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>
    /// The class folders to read, in label order (Keras's <c>class_names</c>); null reads every subfolder, sorted by
    /// name (ordinal, as Python sorts strings), so labels 0..K-1 follow the alphabetical order of the folder names.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }
}
