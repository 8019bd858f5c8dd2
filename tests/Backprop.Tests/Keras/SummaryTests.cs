using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class SummaryTests
{
    private static string Line(string summary, string layerName) =>
        summary.Split('\n').First(l => l.StartsWith(" " + layerName + " ", StringComparison.Ordinal));

    [Fact]
    public void TheTutorialConvLayerShows62By62By32And896Params()
    {
        var model = new Sequential(1, new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"));
        // 64 − 3 + 1 = 62; weights 3·3·3·32 + 32 biases = 896
        Assert.Equal(new KerasShape(62, 62, 32), model.OutputShape);
        string s = model.Summary(print: false);
        Assert.StartsWith("Model: \"sequential\"\n", s);
        Assert.Contains(" Layer (type)                Output Shape              Param #\n", s);
        Assert.Equal(" conv2d (Conv2D)             (None, 62, 62, 32)        896", Line(s, "conv2d"));
        Assert.Contains("Total params: 896\n", s);
        Assert.Contains("Trainable params: 896\n", s);
        Assert.Contains("Non-trainable params: 0\n", s);
    }

    [Fact]
    public void VggStackWithSamePaddingAndPooling()
    {
        var model = new Sequential(2,
            new Conv2D(16, 3, padding: "same", activation: "relu", inputShape: (32, 32, 3)),
            new Conv2D(16, 3, padding: "same", activation: "relu"),
            new MaxPooling2D(2),
            new Conv2D(32, 3, strides: 2, padding: "same", activation: "relu"),
            new MaxPooling2D(2, padding: "same"),
            new Flatten(),
            new Dense(10, activation: "softmax"));
        string s = model.Summary(print: false);
        // same padding keeps 32x32; 3·3·3·16+16 = 448, 3·3·16·16+16 = 2320
        Assert.Equal(" conv2d (Conv2D)             (None, 32, 32, 16)        448", Line(s, "conv2d"));
        Assert.Equal(" conv2d_1 (Conv2D)           (None, 32, 32, 16)        2320", Line(s, "conv2d_1"));
        Assert.Contains("(None, 16, 16, 16)", Line(s, "max_pooling2d"));
        // stride 2 with same padding: ceil(16 / 2) = 8; 3·3·16·32+32 = 4640
        Assert.Equal(" conv2d_2 (Conv2D)           (None, 8, 8, 32)          4640", Line(s, "conv2d_2"));
        Assert.Contains("(None, 4, 4, 32)", Line(s, "max_pooling2d_1"));
        Assert.Contains("(None, 512)", Line(s, "flatten"));           // 4·4·32
        Assert.Contains("5130", Line(s, "dense"));                     // 512·10+10
        Assert.Contains("Total params: 12,538\n", s);                  // 448+2320+4640+5130
        Assert.Equal(12538, model.ParamCount);
    }

    [Fact]
    public void DenseMlp()
    {
        var model = new Sequential(3, new Dense(64, activation: "relu", inputShape: 784), new Dropout(0.5), new Dense(10, activation: "softmax"));
        string s = model.Summary(print: false);
        Assert.Equal(" dense (Dense)               (None, 64)                50240", Line(s, "dense"));   // 784·64+64
        Assert.Equal(" dropout (Dropout)           (None, 64)                0", Line(s, "dropout"));
        Assert.Equal(" dense_1 (Dense)             (None, 10)                650", Line(s, "dense_1"));   // 64·10+10
        Assert.Contains("Total params: 50,890\n", s);
    }

    [Fact]
    public void BatchNormalizationMovingStatisticsAreNonTrainable()
    {
        var model = new Sequential(4,
            new Conv2D(8, 3, inputShape: (10, 10, 1)),
            new BatchNormalization(),
            new Activation("relu"),
            new GlobalAveragePooling2D(),
            new Dense(2, activation: "softmax"));
        string s = model.Summary(print: false);
        Assert.Contains("80", Line(s, "conv2d"));                          // 3·3·1·8+8
        Assert.Equal(" batch_normalization         (None, 8, 8, 8)           32", Line(s, "batch_normalization"));
        Assert.Contains("\n (BatchNormalization)\n", s);                   // too long for its column: wraps
        Assert.Contains("(None, 8)", Line(s, "global_average_pooling2d"));
        Assert.Contains("18", Line(s, "dense"));                            // 8·2+2
        Assert.Contains("Total params: 130\n", s);                          // 80 + 4·8 + 18
        Assert.Contains("Trainable params: 114\n", s);                      // γ, β trainable
        Assert.Contains("Non-trainable params: 16\n", s);                   // moving mean and variance
    }

    [Fact]
    public void FrozenLayersCountAsNonTrainable()
    {
        var model = new Sequential(5, new Dense(4, inputShape: 3), new Dense(2));
        model.Layers[0].Trainable = false;
        Assert.Equal(16, model.NonTrainableParamCount);   // 3·4+4
        Assert.Equal(10, model.TrainableParamCount);      // 4·2+2
    }

    [Fact]
    public void DefaultNamesFollowKeras()
    {
        Assert.Equal("max_pooling2d", Sequential.SnakeCase("MaxPooling2D"));
        Assert.Equal("global_average_pooling2d", Sequential.SnakeCase("GlobalAveragePooling2D"));
        Assert.Equal("batch_normalization", Sequential.SnakeCase("BatchNormalization"));
        Assert.Equal("conv2d", Sequential.SnakeCase("Conv2D"));
    }
}
