namespace Backprop.Vision;

/// <summary>
/// A random change to one image, for data augmentation (<see cref="RandomFlip"/>, <see cref="RandomCrop"/>,
/// <see cref="ComposedTransform"/>). Every random draw comes from the generator passed in, so a seeded generator
/// repeats the same changes. Apply to a dataset with <see cref="ImageFolderDataset.ToDataset"/> (per sample) or to
/// a batch with <see cref="ImageTransformExtensions.ApplyToBatch"/>.
/// </summary>
public interface IImageTransform
{
    /// <summary>The size of the output for an input of <paramref name="height"/> × <paramref name="width"/>; throws when the input does not fit the transform.</summary>
    (int Height, int Width) OutputSize(int height, int width);

    /// <summary>The transformed image (a new one, or <paramref name="image"/> itself when nothing changes); every channel changes alike.</summary>
    Image Apply(Image image, Generator generator);
}
