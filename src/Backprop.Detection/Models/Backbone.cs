using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// A convolutional feature extractor for detection: (N, 3, H, W) images in, (N, <see cref="OutChannels"/>, H/stride, W/stride)
/// features out. The anchor generator and the RoI pooler need its <see cref="FeatureStride"/> (the ratio of image to feature
/// pixels) to place anchors and to map boxes onto the feature map.
/// </summary>
public abstract class Backbone : Module
{
    /// <summary>Channels of the feature map.</summary>
    public abstract int OutChannels { get; }

    /// <summary>Image pixels per feature-map pixel.</summary>
    public abstract int FeatureStride { get; }

    /// <summary>The feature map's size for an image of the given size.</summary>
    public abstract (int Height, int Width) FeatureSize(int height, int width);

    /// <summary>The backbone named on the command line: "small" or "vgg16".</summary>
    public static Backbone Create(string name, Generator generator) => name switch
    {
        "small" => new SmallBackbone(generator: generator),
        "vgg16" => new Vgg16Backbone(generator),
        _ => throw new ArgumentException($"Unknown backbone '{name}': use 'small' or 'vgg16'."),
    };

    /// <summary>The name <see cref="Create"/> takes for this backbone.</summary>
    public abstract string Name { get; }

    /// <summary>A 3x3 convolution with padding 1, He-initialized for the ReLU after it (zero bias).</summary>
    protected static Conv2d Conv3x3(int inChannels, int outChannels, Generator generator)
    {
        var conv = new Conv2d(inChannels, outChannels, 3, padding: 1, generator: generator);
        Init.KaimingNormal(conv.Weight, generator);
        Init.Constant(conv.Bias!, 0f);
        return conv;
    }
}
