namespace Backprop.Data;

/// <summary>
/// Grayscale images with one class label each, as MNIST stores them: <see cref="Images"/> of shape
/// (N, 1, H, W) holding the raw byte values 0-255 as floats (scale them yourself, e.g. by 1/255 or Caffe's
/// 0.00390625), and <see cref="Labels"/> of length N.
/// </summary>
public sealed class LabeledImages
{
    public LabeledImages(Tensor images, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Rank != 4 || images.Shape[1] != 1)
            throw new ArgumentException($"Images must have shape (N, 1, H, W), got {images.Shape}.", nameof(images));
        if (images.Shape[0] != labels.Length)
            throw new ArgumentException($"There are {images.Shape[0]} images but {labels.Length} labels.", nameof(labels));
        Images = images;
        Labels = labels;
    }

    /// <summary>The images, (N, 1, H, W), values 0-255.</summary>
    public Tensor Images { get; }

    /// <summary>The class of each image.</summary>
    public byte[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>
    /// Reads an IDX pair: images of unsigned bytes (N, H, W) and labels of unsigned bytes (N). Throws
    /// <see cref="InvalidDataException"/> naming the files when the types or counts do not match.
    /// </summary>
    public static LabeledImages FromIdxFiles(string imagesPath, string labelsPath)
    {
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Bytes is null || images.Shape.Length != 3)
            throw new InvalidDataException($"'{imagesPath}' should hold images as unsigned bytes of shape (N, H, W), but holds {images.Type} of shape ({string.Join(", ", images.Shape)}).");
        if (labels.Bytes is not byte[] labelBytes || labels.Shape.Length != 1)
            throw new InvalidDataException($"'{labelsPath}' should hold labels as unsigned bytes of shape (N), but holds {labels.Type} of shape ({string.Join(", ", labels.Shape)}).");
        if (images.Shape[0] != labels.Shape[0])
            throw new InvalidDataException($"'{imagesPath}' holds {images.Shape[0]} images but '{labelsPath}' holds {labels.Shape[0]} labels.");
        var shape = new Shape(images.Shape[0], 1, images.Shape[1], images.Shape[2]);
        return new LabeledImages(new Tensor(images.AsFloats(), 0, shape), labelBytes);
    }

    /// <summary>The images and labels as a <see cref="TensorDataset"/> for a <see cref="DataLoader"/> (shares the image storage).</summary>
    public TensorDataset ToDataset() => TensorDataset.FromTensor(Images, Array.ConvertAll(Labels, b => (int)b));
}
