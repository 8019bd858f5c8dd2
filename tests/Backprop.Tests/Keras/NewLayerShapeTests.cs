using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>
/// Output shapes and parameter counts of Rescaling, ZeroPadding2D, UpSampling2D, Conv2DTranspose, DepthwiseConv2D and
/// SeparableConv2D, against numbers worked out by hand from Keras's documented formulas (in the comments).
/// </summary>
public sealed class NewLayerShapeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-layers-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Sequential Stack() => new(7,
        new Rescaling(1.0 / 255, inputShape: (32, 32, 3)),
        new ZeroPadding2D(1),
        new Conv2D(8, 3),
        new DepthwiseConv2D(3, strides: 2, padding: "same", depthMultiplier: 2),
        new SeparableConv2D(32, 3, padding: "same", activation: "relu"),
        new Conv2DTranspose(16, 3, strides: 2, padding: "same"),
        new UpSampling2D(2, interpolation: "bilinear"),
        new Conv2DTranspose(4, 3, strides: 2));

    private static string Line(string summary, string layerName) =>
        summary.Split('\n').First(l => l.StartsWith(" " + layerName + " ", StringComparison.Ordinal));

    [Fact]
    public void SummaryShowsKerasShapesAndParameterCounts()
    {
        var model = Stack();
        string s = model.Summary(print: false);
        // Rescaling keeps (32, 32, 3); ZeroPadding2D(1) gives 34x34; Conv2D 3x3 valid 32x32, 3·3·3·8 + 8 = 224.
        Assert.Equal(" rescaling (Rescaling)       (None, 32, 32, 3)         0", Line(s, "rescaling"));
        Assert.Equal(" zero_padding2d              (None, 34, 34, 3)         0", Line(s, "zero_padding2d"));   // "(ZeroPadding2D)" wraps below
        Assert.EndsWith("(None, 32, 32, 8)         224", Line(s, "conv2d"));
        // Depthwise 3x3 same stride 2: ceil(32/2) = 16, 8·2 = 16 channels; 3·3·8·2 + 16 = 160.
        Assert.EndsWith("(None, 16, 16, 16)        160", Line(s, "depthwise_conv2d"));
        // Separable: 3·3·16·1 depthwise + 16·32 pointwise + 32 bias = 688.
        Assert.EndsWith("(None, 16, 16, 32)        688", Line(s, "separable_conv2d"));
        // Transposed 3x3 stride 2 same: 16·2 = 32; kernel 3·3·32·16 + 16 = 4624.
        Assert.EndsWith("(None, 32, 32, 16)        4624", Line(s, "conv2d_transpose"));
        Assert.EndsWith("(None, 64, 64, 16)        0", Line(s, "up_sampling2d"));
        // Transposed 3x3 stride 2 valid: 64·2 + max(3 − 2, 0) = 129; 3·3·16·4 + 4 = 580.
        Assert.EndsWith("(None, 129, 129, 4)       580", Line(s, "conv2d_transpose_1"));
        Assert.Contains("Total params: 6,276\n", s);   // 224 + 160 + 688 + 4624 + 580
        Assert.Equal(6276, model.ParamCount);
        Assert.Equal(new Shape(2, 129, 129, 4), model.Predict(Tensor.Rand(new Generator(1), 2, 32, 32, 3)).Shape);
    }

    [Theory]
    // Keras's deconv_output_length: valid in·s + max(k − s, 0); same in·s; with output padding p: (in − 1)·s + k − 2·pad + p, pad = k/2 for same.
    [InlineData("valid", 3, 1, -1, 7)]
    [InlineData("valid", 3, 2, -1, 11)]
    [InlineData("valid", 2, 2, -1, 10)]
    [InlineData("valid", 1, 3, -1, 15)]
    [InlineData("same", 3, 2, -1, 10)]
    [InlineData("same", 4, 3, -1, 15)]
    [InlineData("same", 3, 2, 1, 10)]
    [InlineData("same", 3, 2, 0, 9)]
    [InlineData("valid", 3, 2, 1, 12)]
    [InlineData("same", 4, 3, 0, 12)]
    public void Conv2DTransposeOutputSizeIsKerasDeconvOutputLength(string padding, int kernel, int stride, int outputPadding, int expected)
    {
        Size2D? op = outputPadding < 0 ? null : outputPadding;
        var model = new Sequential(1, new Conv2DTranspose(2, kernel, strides: stride, padding: padding, outputPadding: op, inputShape: (5, 5, 3)));
        Assert.Equal(new KerasShape(expected, expected, 2), model.OutputShape);
        Assert.Equal(new Shape(1, expected, expected, 2), model.Predict(Tensor.Rand(new Generator(2), 1, 5, 5, 3)).Shape);
    }

    [Fact]
    public void ZeroPaddingTakesKerasThreeForms()
    {
        Assert.Equal(new KerasShape(7, 8, 2), new Sequential(1, new ZeroPadding2D(inputShape: (5, 6, 2))).OutputShape);           // default (1, 1)
        Assert.Equal(new KerasShape(7, 10, 2), new Sequential(1, new ZeroPadding2D((1, 2), inputShape: (5, 6, 2))).OutputShape);  // rows 1+1, cols 2+2
        var model = new Sequential(1, new ZeroPadding2D(((1, 2), (3, 4)), inputShape: (5, 6, 2)));
        Assert.Equal(new KerasShape(8, 13, 2), model.OutputShape);
        var y = model.Predict(Tensor.Ones(1, 5, 6, 2));
        Assert.Equal(5 * 6 * 2, y.ToArray().Sum());
        Assert.Equal(1f, y.ToArray()[((1 * 13) + 3) * 2]);   // first input pixel lands at row 1, column 3
    }

    [Fact]
    public void RescalingAndNearestUpSamplingComputeKerasValues()
    {
        var model = new Sequential(1, new Rescaling(1.0 / 127.5, offset: -1, inputShape: (1, 2, 1)), new UpSampling2D((2, 3)));
        var y = model.Predict(Tensor.FromArray([0f, 255f], 1, 1, 2, 1));
        Assert.Equal(new Shape(1, 2, 6, 1), y.Shape);
        Assert.Equal([-1f, -1f, -1f, 1f, 1f, 1f, -1f, -1f, -1f, 1f, 1f, 1f], y.ToArray());
    }

    [Fact]
    public void SaveAndLoadKeepTheNewLayersAndTheirWeights()
    {
        var model = Stack();
        string path = Path.Combine(dir, "layers.safetensors");
        model.Save(path);
        var loaded = Sequential.Load(path);
        Assert.Equal(model.Summary(print: false), loaded.Summary(print: false));
        var x = Tensor.Rand(new Generator(3), 1, 32, 32, 3) * 255f;
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        var zp = new Sequential(1, new ZeroPadding2D(((1, 2), (3, 4)), inputShape: (5, 6, 2)), new Conv2DTranspose(2, 3, strides: 2, outputPadding: 1));
        zp.Save(path);
        var again = Sequential.Load(path);
        Assert.Equal(zp.Summary(print: false), again.Summary(print: false));
        Assert.Equal(new Size2D(1, 1), ((Conv2DTranspose)again.Layers[1]).OutputPadding);
    }

    [Fact]
    public void BadArgumentsAndInputsAreReportedInKerasTerms()
    {
        Assert.Contains("smaller than the strides", Assert.Throws<ArgumentException>(() => new Conv2DTranspose(2, 3, strides: 2, outputPadding: 2)).Message);
        Assert.Contains("interpolation", Assert.Throws<ArgumentException>(() => new UpSampling2D(2, "bicubic")).Message);
        Assert.Contains("depthMultiplier", Assert.Throws<ArgumentException>(() => new DepthwiseConv2D(3, depthMultiplier: 0)).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => new ZeroPadding2D(((0, -1), (0, 0)))).Message);
        var e = Assert.Throws<ArgumentException>(() => new Sequential(1, new Dense(4, inputShape: 8), new SeparableConv2D(2, 3)));
        Assert.Contains("separable_conv2d", e.Message);
        Assert.Contains("(None, 4)", e.Message);
    }
}
