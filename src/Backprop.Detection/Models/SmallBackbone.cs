using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// A small convnet that trains from scratch on the CPU in minutes: four stages of 3x3 convolution, batch
/// normalization and ReLU, each but the last followed by 2x2 max pooling, then one more convolution stage at stride 16
/// (VGG16's conv5_3 stride, so anchors and RoIs are placed as for the paper's network). With the default widths
/// (16, 32, 64, 128, 128) a 224x224 image gives a 14x14x128 feature map.
/// </summary>
public sealed class SmallBackbone : Backbone
{
    private readonly Sequential layers;
    private readonly int outChannels;

    /// <param name="widths">Channels of the five stages (default 16, 32, 64, 128, 128).</param>
    /// <param name="generator">Initial weights' random source.</param>
    public SmallBackbone(IReadOnlyList<int>? widths = null, Generator? generator = null)
    {
        widths ??= [16, 32, 64, 128, 128];
        if (widths.Count != 5 || widths.Any(w => w < 1))
            throw new ArgumentException($"SmallBackbone takes five positive stage widths, got [{string.Join(", ", widths)}].");
        var g = generator ?? Generator.Default;
        layers = new Sequential();
        int channels = 3;
        for (int stage = 0; stage < 5; stage++)
        {
            layers.Add(Conv3x3(channels, widths[stage], g), $"conv{stage + 1}");
            layers.Add(new BatchNorm2d(widths[stage]), $"bn{stage + 1}");
            layers.Add(new Relu(), $"relu{stage + 1}");
            if (stage < 4) layers.Add(new MaxPool2d(2), $"pool{stage + 1}");
            channels = widths[stage];
        }
        RegisterModule("features", layers);
        outChannels = channels;
    }

    public override int OutChannels => outChannels;
    public override int FeatureStride => 16;
    public override string Name => "small";

    // Four floor-rounded 2x2 poolings.
    public override (int Height, int Width) FeatureSize(int height, int width) => (height / 16, width / 16);

    public override Tensor Forward(Tensor input) => layers.Forward(input);
}
