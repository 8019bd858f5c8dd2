using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class LayoutTests
{
    [Theory]
    [InlineData(5, 3, 1)]
    [InlineData(6, 3, 1)]
    [InlineData(5, 3, 2)]
    [InlineData(6, 3, 2)]
    [InlineData(7, 4, 2)]
    [InlineData(8, 4, 3)]
    [InlineData(7, 2, 3)]
    public void SamePaddingGivesCeilOfInputOverStride(int size, int kernel, int stride)
    {
        int expected = (int)Math.Ceiling(size / (double)stride);
        var model = new Sequential(1,
            new Conv2D(2, kernel, strides: stride, padding: "same", inputShape: (size, size + 1, 1)),
            new MaxPooling2D(kernel, strides: stride, padding: "same"),
            new AveragePooling2D(kernel, strides: stride, padding: "same"));
        int expectedW = (int)Math.Ceiling((size + 1) / (double)stride);
        Assert.Equal(new KerasShape(expected, expectedW, 2), model.Layers[0].OutputShape);
        int e2 = (int)Math.Ceiling(expected / (double)stride), e2w = (int)Math.Ceiling(expectedW / (double)stride);
        Assert.Equal(new KerasShape(e2, e2w, 2), model.Layers[1].OutputShape);
        var y = model.Predict(Tensor.Rand(new Generator(1), 2, size, size + 1, 1));
        var e3 = new Shape(2, (int)Math.Ceiling(e2 / (double)stride), (int)Math.Ceiling(e2w / (double)stride), 2);
        Assert.Equal(e3, y.Shape);
    }

    [Fact]
    public void OddSamePaddingPutsTheExtraRowAndColumnAtBottomRight()
    {
        // 2x2 kernel of ones, stride 1, same padding on a 3x3 image of ones: total padding 1, all after.
        var model = new Sequential(1, new Conv2D(1, 2, padding: "same", useBias: false, inputShape: (3, 3, 1)));
        model.SetWeights([Tensor.Ones(2, 2, 1, 1)]);
        var y = model.Predict(Tensor.Ones(1, 3, 3, 1));
        Assert.Equal(4f, y[0, 0, 0, 0]);   // top-left window lies on the image
        Assert.Equal(2f, y[0, 2, 0, 0]);   // bottom row's window half in the padding
        Assert.Equal(1f, y[0, 2, 2, 0]);   // bottom-right corner
        // Average pooling with same padding does not count the padding (TensorFlow's rule).
        var pool = new Sequential(1, new AveragePooling2D(2, strides: 2, padding: "same", inputShape: (3, 3, 1)));
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 3, 3, 1);
        Assert.Equal(new[] { 3f, 4.5f, 7.5f, 9f }, pool.Predict(x).ToArray());   // (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9
    }

    [Fact]
    public void ChannelsLastPredictEqualsTheCoreOnPermutedInput()
    {
        var model = new Sequential(7,
            new Conv2D(4, (3, 2), padding: "same", activation: "relu", inputShape: (6, 5, 2)),
            new MaxPooling2D(2),
            new Flatten(),
            new Dense(3, activation: "softmax"));
        var w = model.GetWeights();   // Keras layouts: conv (3, 2, 2, 4), bias 4, dense (3·2·4, 3), bias 3
        Assert.Equal(new Shape(3, 2, 2, 4), w[0].Shape);
        Assert.Equal(new Shape(24, 3), w[2].Shape);

        // The same network written with core modules, weights converted by hand from Keras's layouts.
        var conv = new Backprop.Nn.Conv2d(2, 4, (3, 2), (1, 1), (1, 0), (1, 1));
        var kernel = w[0];
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 2; i++)
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 2; c++)
                        conv.Weight[o, i, r, c] = kernel[r, c, i, o];
        w[1].AsSpan().CopyTo(conv.Bias!.AsSpan());
        var linear = new Backprop.Nn.Linear(24, 3);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 24; i++) linear.Weight[o, i] = w[2][i, o];
        w[3].AsSpan().CopyTo(linear.Bias!.AsSpan());

        var x = Tensor.Randn(new Generator(3), 5, 6, 5, 2);     // (N, H, W, C)
        var xc = x.Permute(0, 3, 1, 2);                          // (N, C, H, W)
        // Same padding with a 3x2 kernel: rows 1 above and below; columns 0 left and 1 right.
        var padded = Tensor.Concat([xc, Tensor.Zeros(5, 2, 6, 1)], 3);
        var h = Functional.MaxPool2d(Functional.Relu(conv.Forward(padded)), 2);   // (5, 4, 3, 2)
        var flat = h.Permute(0, 2, 3, 1).Flatten(1);                               // Keras flattens (h, w, c)
        var expected = Functional.Softmax(linear.Forward(flat), 1).ToArray();

        var actual = model.Predict(x, batchSize: 2).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);

        // Weights round-trip through Keras's layout, and the core modules hold the same numbers.
        var conv2d = ((Conv2D)model.Layers[0]).Conv;
        Assert.Equal(conv.Weight.ToArray(), conv2d.Weight.ToArray());
        model.SetWeights(w);
        Assert.Equal(w[2].ToArray(), model.GetWeights()[2].ToArray());
        Assert.Contains("conv2d.weight", model.Network.StateDict().Keys);
    }

    [Fact]
    public void ConvolutionalOutputsComeBackChannelsLast()
    {
        var model = new Sequential(2, new Conv2D(3, 1, useBias: false, inputShape: (2, 2, 1)));
        model.SetWeights([Tensor.FromArray([1f, 10f, 100f], 1, 1, 1, 3)]);
        var y = model.Predict(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 2, 2, 1));
        Assert.Equal(new Shape(1, 2, 2, 3), y.Shape);
        Assert.Equal(new[] { 1f, 10f, 100f, 2f, 20f, 200f }, y.ToArray()[..6]);
    }

    [Fact]
    public void SameSeedSameWeights()
    {
        static Sequential Make(ulong seed) => new(seed, new Conv2D(4, 3, inputShape: (8, 8, 1), kernelInitializer: "he_normal"), new Flatten(), new Dense(2));
        var a = Make(11).GetWeights();
        var b = Make(11).GetWeights();
        var c = Make(12).GetWeights();
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].ToArray(), b[i].ToArray());
        Assert.NotEqual(a[0].ToArray(), c[0].ToArray());
        Assert.All(a[1].ToArray(), v => Assert.Equal(0f, v));           // zero biases by default
        double sigma = Math.Sqrt(2.0 / 9) / 0.87962566103423978;          // he_normal: fan_in 3·3·1, truncated at 2σ
        Assert.All(a[0].ToArray(), v => Assert.True(Math.Abs(v) <= 2 * sigma + 1e-6));
        double bound = Math.Sqrt(6.0 / (144 + 2));                          // glorot_uniform on the Dense kernel (6·6·4, 2)
        Assert.All(a[2].ToArray(), v => Assert.True(Math.Abs(v) <= bound));
        Assert.True(a[2].ToArray().Max(Math.Abs) > 0.8 * bound);
    }

    [Fact]
    public void PadHasTheGradientOfACopy()
    {
        var x = Tensor.Randn(new Generator(5), 1, 2, 3, 2);
        x.RequiresGrad = true;
        GradientCheck.Check(t => Padding.Pad(t[0], 1, 2, 0, 1), [x], label: "pad");
    }
}
