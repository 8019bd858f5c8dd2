using Backprop.Nn;

namespace Backprop.Detection;

/// <summary>
/// VGG16's convolutional layers, conv1_1 to conv5_3 with ReLUs and the four 2x2 max poolings between the blocks (the
/// fifth pooling is left out, as in Faster R-CNN): a 224x224 image gives conv5_3's 14x14x512 map at stride 16.
/// Parameter names follow Caffe's VGG16 (conv1_1.weight ... conv5_3.bias) so its weights can be loaded by name.
/// </summary>
public sealed class Vgg16Backbone : Backbone
{
    private static readonly int[][] Blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
    private readonly List<Module> layers = [];

    public Vgg16Backbone(Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        int channels = 3;
        for (int b = 0; b < Blocks.Length; b++)
        {
            for (int i = 0; i < Blocks[b].Length; i++)
            {
                layers.Add(RegisterModule($"conv{b + 1}_{i + 1}", Conv3x3(channels, Blocks[b][i], g)));
                layers.Add(new Relu());
                channels = Blocks[b][i];
            }
            if (b < Blocks.Length - 1) layers.Add(new MaxPool2d(2));
        }
    }

    public override int OutChannels => 512;
    public override int FeatureStride => 16;
    public override string Name => "vgg16";
    public override (int Height, int Width) FeatureSize(int height, int width) => (height / 16, width / 16);

    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        foreach (var layer in layers) x = layer.Forward(x);
        return x;
    }
}
