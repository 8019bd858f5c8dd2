using Backprop.Nn;
using Backprop.Onnx;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20 for 32x32 inputs (He et al. 2015, section 4.2): a 3x3 conv to 16 channels, three stages of three basic
/// blocks (16, 32, 64 channels; the first block of stages 2 and 3 halves the size with stride 2), global average
/// pooling and a 10-way linear layer. Convolutions have no bias (BatchNorm follows each). Where a block changes
/// shape its shortcut is a 1x1 convolution with stride 2 and BatchNorm (the paper's option B), as in
/// bench/resnet/pytorch_convnets.py.
/// </summary>
/// <see cref="FusedForInference"/> folds each BatchNorm into its convolution (<see cref="Fusion"/>).
internal sealed class ResNet20 : Module, IOnnxExportable
{
    private readonly Conv2d stem;
    private readonly BatchNorm2d? stemNorm;   // null once folded into the stem
    private readonly Sequential blocks = new();
    private readonly Linear classifier;

    public ResNet20(Generator generator, int classes = 10)
    {
        stem = RegisterModule("conv1", new Conv2d(3, 16, 3, padding: 1, bias: false, generator: generator));
        stemNorm = RegisterModule("bn1", new BatchNorm2d(16));
        int inChannels = 16;
        foreach (var (channels, stride) in new[] { (16, 1), (32, 2), (64, 2) })
            for (int b = 0; b < 3; b++)
            {
                blocks.Add(new BasicBlock(inChannels, channels, b == 0 ? stride : 1, generator));
                inChannels = channels;
            }
        RegisterModule("blocks", blocks);
        classifier = RegisterModule("fc", new Linear(64, classes, generator: generator));
    }

    // The inference net: each conv + BatchNorm pair folded into one convolution, the classifier shared.
    private ResNet20(ResNet20 trained)
    {
        stem = RegisterModule("conv1", Fusion.FuseConvBatchNorm(trained.stem, trained.stemNorm!));
        for (int i = 0; i < trained.blocks.Count; i++) blocks.Add(((BasicBlock)trained.blocks[i]).FusedForInference());
        RegisterModule("blocks", blocks);
        classifier = RegisterModule("fc", trained.classifier);
        Eval();
    }

    /// <summary>A new net for inference with every BatchNorm (in evaluation mode) folded into its convolution.</summary>
    public ResNet20 FusedForInference() => new(this);

    public override Tensor Forward(Tensor input)
    {
        var x = stemNorm is null ? stem.ForwardRelu(input)   // ReLU inside the convolution's output pass
            : stemNorm.ForwardRelu(stem.Forward(input));     // Relu(BatchNorm(...)) fused: one activation less kept
        var features = blocks.Forward(x);
        x.Release();   // under no-grad, each intermediate goes back to the pool once read, as PyTorch frees it (see BasicBlock)
        var pooled = Functional.GlobalAvgPool2d(features);
        features.Release();
        return classifier.Forward(pooled.Flatten(1));
    }

    /// <summary>The same function as ONNX nodes (folded or not), for bench/onnx's ONNX Runtime comparison.</summary>
    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        var x = context.Export(stem, input);
        if (stemNorm is not null) x = context.Export(stemNorm, x);
        x = context.Export(blocks, context.Relu(x));
        int channels = x.SampleShape[0];
        x = context.Node("GlobalAveragePool", "pool", [x], [channels, 1, 1]);
        x = context.Node("Flatten", "flatten", [x], [channels]);   // axis 1 by default
        return context.Export(classifier, x);
    }

    /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).</summary>
    private sealed class BasicBlock : Module, IOnnxExportable
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d? bn1, bn2;   // null once folded
        private readonly Sequential? shortcut;

        public BasicBlock(int inChannels, int channels, int stride, Generator generator)
        {
            conv1 = RegisterModule("conv1", new Conv2d(inChannels, channels, 3, stride, 1, bias: false, generator: generator));
            bn1 = RegisterModule("bn1", new BatchNorm2d(channels));
            conv2 = RegisterModule("conv2", new Conv2d(channels, channels, 3, 1, 1, bias: false, generator: generator));
            bn2 = RegisterModule("bn2", new BatchNorm2d(channels));
            if (stride != 1 || inChannels != channels)
                shortcut = RegisterModule("shortcut", new Sequential(
                    new Conv2d(inChannels, channels, 1, stride, bias: false, generator: generator), new BatchNorm2d(channels)));
        }

        private BasicBlock(BasicBlock trained)
        {
            conv1 = RegisterModule("conv1", Fusion.FuseConvBatchNorm(trained.conv1, trained.bn1!));
            conv2 = RegisterModule("conv2", Fusion.FuseConvBatchNorm(trained.conv2, trained.bn2!));
            if (trained.shortcut is not null) shortcut = RegisterModule("shortcut", Fusion.FuseConvBatchNorm(trained.shortcut));
        }

        public BasicBlock FusedForInference() => new(this);

        public override Tensor Forward(Tensor input)
        {
            // Under no-grad each intermediate goes back to the pool once read (Tensor.Release, a no-op while autograd
            // records): the next one reuses its memory while it is in the cache, as PyTorch's allocator reuses a freed one.
            var shortcutOut = shortcut?.Forward(input);
            Tensor result;
            if (bn1 is null || bn2 is null)   // folded: Relu(conv2(Relu(conv1(x))) + shortcut), the sum in the convolution's own pass
                result = conv1.ForwardReluThen(conv2, input, residual: shortcutOut ?? input);   // h between them in 16-channel pixels
            else
            {
                var c1 = conv1.Forward(input);
                var y = bn1.ForwardReluThen(conv2, c1);   // Relu(bn1(c1)) between them: recomputed in backward, not kept
                c1.Release();
                result = bn2.ForwardAddRelu(y, shortcutOut ?? input);   // Relu(bn2(y) + shortcut): neither bn2(y) nor the sum stored
                y.Release();
            }
            shortcutOut?.Release();
            return result;
        }

        public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
        {
            var y = context.Export(conv1, input);
            if (bn1 is not null) y = context.Export(bn1, y);
            y = context.Export(conv2, context.Relu(y));
            if (bn2 is not null) y = context.Export(bn2, y);
            return context.Relu(context.Add(y, shortcut is null ? input : context.Export(shortcut, input)));
        }
    }
}

/// <summary>
/// A VGG-style stack for 64x64 inputs: four stages of two 3x3 convolutions (padding 1, no bias) each followed by
/// BatchNorm and ReLU, widths 32, 64, 128, 256, a 2x2 max pooling after each stage (64 → 4), then global average
/// pooling and a 10-way linear layer. The same net as bench/resnet/pytorch_convnets.py's VggStack.
/// </summary>
/// <see cref="FusedForInference"/> folds each BatchNorm into its convolution (<see cref="Fusion"/>).
internal sealed class VggStack : Module
{
    public static readonly int[] Widths = [32, 64, 128, 256];

    private readonly Sequential features;
    private readonly Linear classifier;

    // The inference net: Fusion folds the features' conv + BatchNorm pairs; Sequential runs each conv, ReLU pair as one op.
    private VggStack(VggStack trained)
    {
        features = RegisterModule("features", Fusion.FuseConvBatchNorm(trained.features));
        classifier = RegisterModule("fc", trained.classifier);
        Eval();
    }

    /// <summary>A new net for inference with every BatchNorm (in evaluation mode) folded into its convolution.</summary>
    public VggStack FusedForInference() => new(this);

    public VggStack(Generator generator, int classes = 10)
    {
        features = new Sequential();
        int inChannels = 3;
        foreach (int width in Widths)
        {
            for (int i = 0; i < 2; i++)
            {
                features.Add(new Conv2d(inChannels, width, 3, padding: 1, bias: false, generator: generator));
                features.Add(new BatchNorm2d(width));
                features.Add(new Relu());
                inChannels = width;
            }
            features.Add(new MaxPool2d(2));
        }
        RegisterModule("features", features);
        classifier = RegisterModule("fc", new Linear(inChannels, classes, generator: generator));
    }

    public override Tensor Forward(Tensor input) =>
        classifier.Forward(Functional.GlobalAvgPool2d(features.Forward(input)).Flatten(1));
}
