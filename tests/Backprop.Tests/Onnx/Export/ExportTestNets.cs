using Backprop.Nn;
using Backprop.Onnx;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Networks the export tests run through ONNX Runtime, with BatchNorm statistics that are not the defaults.</summary>
internal static class ExportTestNets
{
    public static Sequential LeNet(Generator g) => new(
        new Conv2d(1, 20, 5, generator: g), new MaxPool2d(2),
        new Conv2d(20, 50, 5, generator: g), new MaxPool2d(2),
        new Flatten(), new Linear(800, 500, generator: g), new Relu(), new Dropout(0.5f, g),
        new Linear(500, 10, generator: g), new LogSoftmax(1));

    /// <summary>Two stages of (3x3 conv, BatchNorm, ReLU) x2 then 2x2 max pooling, global pooling and a classifier.</summary>
    public static Sequential Vgg(Generator g)
    {
        var features = new Sequential();
        int inChannels = 3;
        foreach (int width in new[] { 8, 16 })
        {
            for (int i = 0; i < 2; i++)
            {
                features.Add(new Conv2d(inChannels, width, 3, padding: 1, bias: false, generator: g));
                features.Add(Trained(new BatchNorm2d(width), g));
                features.Add(new Relu());
                inChannels = width;
            }
            features.Add(new MaxPool2d(2));
        }
        var net = new Sequential();
        net.Add(features, "features");
        net.Add(new AdaptiveAvgPool2d(1), "pool");
        net.Add(new Flatten(), "flatten");
        net.Add(new Linear(inChannels, 10, generator: g), "fc");
        return net;
    }

    /// <summary>A ResNet stem, a downsampling block (1x1 conv + BatchNorm shortcut), an identity block, a classifier.</summary>
    public static Sequential ResNet(Generator g)
    {
        var net = new Sequential();
        net.Add(new Conv2d(3, 8, 3, padding: 1, bias: false, generator: g), "conv1");
        net.Add(Trained(new BatchNorm2d(8), g), "bn1");
        net.Add(new Relu(), "relu");
        var blocks = new Sequential(new BasicBlock(8, 16, 2, g), new BasicBlock(16, 16, 1, g));
        net.Add(blocks, "blocks");
        net.Add(new AvgPool2d(2), "pool");
        net.Add(new Flatten(), "flatten");
        net.Add(new Linear(16 * 4 * 4, 10, generator: g), "fc");
        return net;
    }

    /// <summary>Random affine parameters and running statistics far from the defaults (mean 0, variance 1).</summary>
    public static BatchNorm2d Trained(BatchNorm2d norm, Generator g)
    {
        int c = norm.NumFeatures;
        Tensor.Normal(g, 0.5f, 0.8f, c).AsSpan().CopyTo(norm.RunningMean.AsSpan());
        Tensor.Uniform(g, 0.3f, 2.5f, c).AsSpan().CopyTo(norm.RunningVar.AsSpan());
        Tensor.Uniform(g, 0.5f, 1.5f, c).AsSpan().CopyTo(norm.Weight!.AsSpan());
        Tensor.Normal(g, 0f, 0.3f, c).AsSpan().CopyTo(norm.Bias!.AsSpan());
        return norm;
    }

    /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): a hand-written module exported through IOnnxExportable.</summary>
    public sealed class BasicBlock : Module, IOnnxExportable
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Sequential? shortcut;

        public BasicBlock(int inChannels, int channels, int stride, Generator g)
        {
            conv1 = RegisterModule("conv1", new Conv2d(inChannels, channels, 3, stride, 1, bias: false, generator: g));
            bn1 = RegisterModule("bn1", Trained(new BatchNorm2d(channels), g));
            conv2 = RegisterModule("conv2", new Conv2d(channels, channels, 3, 1, 1, bias: false, generator: g));
            bn2 = RegisterModule("bn2", Trained(new BatchNorm2d(channels), g));
            if (stride != 1 || inChannels != channels)
                shortcut = RegisterModule("shortcut", new Sequential(
                    new Conv2d(inChannels, channels, 1, stride, bias: false, generator: g), Trained(new BatchNorm2d(channels), g)));
        }

        public override Tensor Forward(Tensor input)
        {
            var y = bn2.Forward(conv2.Forward(bn1.ForwardRelu(conv1.Forward(input))));
            return Functional.AddRelu(y, shortcut?.Forward(input) ?? input);
        }

        public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
        {
            var y = context.Export(bn2, context.Export(conv2, context.Relu(context.Export(bn1, context.Export(conv1, input)))));
            var skip = shortcut is null ? input : context.Export(shortcut, input);
            return context.Relu(context.Add(y, skip));
        }
    }

    /// <summary>A module with no ONNX export.</summary>
    public sealed class Mystery : Module
    {
        public override Tensor Forward(Tensor input) => input;
    }
}
