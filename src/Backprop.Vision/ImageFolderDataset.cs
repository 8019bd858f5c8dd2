using Backprop.Data;

namespace Backprop.Vision;

/// <summary>
/// Images read by <see cref="ImageFolder"/>: <see cref="Images"/> of shape (N, H, W, C) channels-last as Keras
/// holds them, RGB values 0..255 as floats (scale them yourself, e.g. by 1/255), the class of each image in
/// <see cref="Labels"/> and the file it came from in <see cref="FilePaths"/>. <see cref="ToDataset"/> gives the
/// channels-first view (C, H, W) that the core's <see cref="DataLoader"/> reads, optionally augmented.
/// </summary>
public sealed class ImageFolderDataset
{
    private readonly int[] labels;
    private readonly string[] filePaths;
    private readonly string[] classNames;

    internal ImageFolderDataset(Tensor images, int[] labels, string[] filePaths, string[] classNames)
    {
        Images = images;
        this.labels = labels;
        this.filePaths = filePaths;
        this.classNames = classNames;
    }

    /// <summary>The class of each label: label k is <c>ClassNames[k]</c>, the name of its folder.</summary>
    public IReadOnlyList<string> ClassNames => classNames;

    /// <summary>Number of images.</summary>
    public int Count => labels.Length;

    /// <summary>Height of every image (all were resized to it).</summary>
    public int Height => Images.Shape[1];

    /// <summary>Width of every image.</summary>
    public int Width => Images.Shape[2];

    /// <summary>Colour channels: 3, in R, G, B order.</summary>
    public int Channels => Images.Shape[3];

    /// <summary>The images, (N, H, W, C) channels-last, RGB, 0..255 (not a copy: writing to it changes the dataset).</summary>
    public Tensor Images { get; }

    /// <summary>The class index of each image, 0..K-1.</summary>
    public IReadOnlyList<int> Labels => labels;

    /// <summary>The file each image was read from, in the order of <see cref="Images"/>.</summary>
    public IReadOnlyList<string> FilePaths => filePaths;

    /// <summary>The labels as a tensor of shape (N) holding 0..K-1 (Keras's <c>label_mode="int"</c>, or "binary" for two classes).</summary>
    public Tensor LabelTensor() => Tensor.FromArray(Array.ConvertAll(labels, l => (float)l), labels.Length);

    /// <summary>The labels one-hot, shape (N, K) (Keras's <c>label_mode="categorical"</c>).</summary>
    public Tensor OneHotLabels()
    {
        var oneHot = Tensor.Zeros(labels.Length, classNames.Length);
        var values = oneHot.AsSpan();
        for (int i = 0; i < labels.Length; i++) values[i * classNames.Length + labels[i]] = 1f;
        return oneHot;
    }

    /// <summary>A copy of image <paramref name="index"/> as a channels-first <see cref="Image"/> (R, G, B planes).</summary>
    public Image GetImage(int index)
    {
        if ((uint)index >= (uint)labels.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {labels.Length} images.");
        var image = new Image(Channels, Height, Width);
        CopyChannelsFirst(index, image.Pixels);
        return image;
    }

    /// <summary>
    /// The images as an <see cref="IDataset"/> of channels-first samples (C, H, W) for a <see cref="DataLoader"/>.
    /// With a <paramref name="transform"/> (e.g. <see cref="RandomFlip"/>, <see cref="RandomCrop"/>) each sample is
    /// transformed as it is read, with random draws from <paramref name="generator"/>, so every epoch sees new
    /// draws; the sample shape is the transform's output size. The draws follow the order the samples are read in,
    /// so a seeded generator and a seeded loader repeat a run exactly; read one epoch at a time.
    /// </summary>
    public IDataset ToDataset(IImageTransform? transform = null, Generator? generator = null)
    {
        if (transform is not null && generator is null)
            throw new ArgumentNullException(nameof(generator), "A transform needs a generator for its random draws.");
        return new ImageFolderView(this, transform, generator);
    }

    /// <summary>Writes image <paramref name="index"/> channels-first to <paramref name="destination"/> (C·H·W values).</summary>
    internal void CopyChannelsFirst(int index, Span<float> destination)
    {
        int c = Channels, plane = Height * Width;
        var source = Images.AsSpan().Slice(index * plane * c, plane * c);
        for (int p = 0; p < plane; p++)
            for (int ch = 0; ch < c; ch++)
                destination[ch * plane + p] = source[p * c + ch];
    }

    public override string ToString() =>
        $"ImageFolderDataset({Count} images of {Height}x{Width}x{Channels}, {classNames.Length} classes: {string.Join(", ", classNames)})";
}
