using Backprop.Keras;
using Backprop.Vision;

namespace Backprop.Cli;

/// <summary>A saved Keras model's feature maps for one image, for <c>backprop features</c>.</summary>
internal static class KerasFeatures
{
    /// <summary>
    /// The output of <paramref name="layer"/> for the image at <paramref name="imagePath"/>, channels-first (1, C, H, W)
    /// (or (1, F) after a Flatten or Dense) as the pictures take it. The image is read as RGB (Keras's order), resized
    /// to the model's input and given as 0..255 when the model starts with a Rescaling layer, else scaled to 0..1
    /// (ImageDataGenerator(rescale=1./255)).
    /// </summary>
    public static (Tensor Maps, string InputSize) MapsAt(SavedKerasModel model, string modelPath, string imagePath, string layer, IReadOnlyList<int>? inputShape)
    {
        if (inputShape is not null)
            throw new ArgumentException($"--input-shape is for prototxt nets; the Keras model {modelPath} declares its input {model.InputShape.WithBatch()}.");
        if (model.InputShape.Rank != 3 || model.InputShape[2] is not (1 or 3))
            throw new ArgumentException($"The Keras model {modelPath} takes input {model.InputShape.WithBatch()}; features needs images (height, width, 1 or 3 channels).");
        if (!model.Layers.Any(l => l.Name == layer))
            throw new ArgumentException($"The Keras model {modelPath} has no layer named '{layer}'. Layers: {string.Join(", ", model.Layers.Select(l => l.Name))}.");
        int h = model.InputShape[0], w = model.InputShape[1], c = model.InputShape[2];
        var image = ImageFile.Load(imagePath, color: c == 3, ChannelOrder.Rgb);
        if (image.Height != h || image.Width != w) image = ImageResize.Bilinear(image, h, w);
        bool rescales = model.Layers.FirstOrDefault(l => l is not InputLayer) is Rescaling;
        var pixels = rescales ? image.Pixels : [.. image.Pixels.Select(p => p / 255f)];
        var x = Tensor.FromArray(pixels, 1, c, h, w).Permute(0, 2, 3, 1);   // Keras's (N, H, W, C)
        var y = model.PredictLayer(x, layer);
        return (y.Rank == 4 ? y.Permute(0, 3, 1, 2) : y, $"{h}x{w}x{c}");
    }
}
