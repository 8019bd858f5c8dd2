using Backprop.Data;

namespace Backprop.Vision;

/// <summary>The channels-first <see cref="IDataset"/> over an <see cref="ImageFolderDataset"/>, with an optional per-sample transform.</summary>
internal sealed class ImageFolderView : IDataset
{
    private readonly ImageFolderDataset images;
    private readonly IImageTransform? transform;
    private readonly Generator? generator;
    private readonly Lock drawing = new();

    public ImageFolderView(ImageFolderDataset images, IImageTransform? transform, Generator? generator)
    {
        this.images = images;
        this.transform = transform;
        this.generator = generator;
        var (h, w) = transform?.OutputSize(images.Height, images.Width) ?? (images.Height, images.Width);
        SampleShape = new Shape(images.Channels, h, w);
    }

    public int Count => images.Count;

    public Shape SampleShape { get; }

    public int CopySample(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)images.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {images.Count} images.");
        if (transform is null)
        {
            images.CopyChannelsFirst(index, destination);
            return images.Labels[index];
        }
        Image result;
        var image = images.GetImage(index);
        lock (drawing) result = transform.Apply(image, generator!);
        result.Pixels.CopyTo(destination);
        return images.Labels[index];
    }
}
