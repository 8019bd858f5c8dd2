using Backprop.Keras;
using Backprop.Onnx;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Keras models exported to ONNX compute in ONNX Runtime what Predict computes, on channels-last input, at batch 1 and 4.</summary>
public class KerasExportRuntimeTests(ITestOutputHelper log)
{
    private void AssertMatches(Sequential model, string what, OnnxExportOptions? options = null) =>
        KerasExportCheck.AssertMatches(path => KerasOnnxExport.Export(model, path, options), x => model.Predict(x), model.InputShape, log, what);

    private void AssertMatches(Model model, string what) =>
        KerasExportCheck.AssertMatches(path => KerasOnnxExport.Export(model, path), x => model.Predict(x), model.InputShape, log, what);

    // The README's model: Conv2D(32, (3, 3), relu) on 64x64 RGB, MaxPooling2D, Flatten, Dense(1, sigmoid).
    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void TheSeedModelRunsInOnnxRuntime(int opset)
    {
        var model = new Sequential(seed: 1,
            new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"),
            new MaxPooling2D((2, 2)),
            new Flatten(),
            new Dense(1, activation: "sigmoid"));
        AssertMatches(model, $"seed model opset {opset}", new OnnxExportOptions { Opset = opset });
    }

    // The Keras README's variant with a hidden Dense(128, relu); a Dense(3, softmax) head makes the Flatten order visible.
    [Fact]
    public void TheSeedModelWithAHiddenDenseAndSoftmaxRunsInOnnxRuntime()
    {
        var model = new Sequential(seed: 2,
            new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"),
            new MaxPooling2D(2),
            new Flatten(),
            new Dense(128, activation: "relu"),
            new Dropout(0.5),
            new Dense(3, activation: "softmax"));
        AssertMatches(model, "seed model + Dense(128)");
    }

    // Odd sizes with strides make same padding asymmetric (the extra row and column at the bottom and right).
    [Fact]
    public void BatchNormalizationAfterFitWithSamePaddingAndStridesRunsInOnnxRuntime()
    {
        var model = new Sequential(seed: 3,
            new Conv2D(8, 3, strides: 2, padding: "same", inputShape: (15, 13, 3)),
            new BatchNormalization(momentum: 0.5),
            new Activation("relu"),
            new MaxPooling2D(3, strides: 2, padding: "same"),
            new AveragePooling2D(2, strides: (1, 2), padding: "same"),
            new Conv2D(6, (2, 3), padding: "same", activation: "tanh"),
            new BatchNormalization(),
            new GlobalAveragePooling2D(),
            new Dense(5),
            new BatchNormalization(momentum: 0.5),
            new Dense(3, activation: "softmax"));
        var g = new Generator(4);
        model.Compile("adam", "mse");
        model.Fit(Tensor.Randn(g, 16, 15, 13, 3) * 2f + 1f, Tensor.Rand(g, 16, 3), batchSize: 8, epochs: 2, verbose: 0);
        var norm = ((BatchNormalization)model.Layers[1]).Norm;
        Assert.Contains(norm.RunningMean.ToArray(), m => Math.Abs(m) > 1e-3);   // the moving statistics moved
        Assert.Contains(norm.RunningVar.ToArray(), v => Math.Abs(v - 1) > 1e-3);
        AssertMatches(model, "BatchNormalization + same + strides");
    }

    // A residual block (Add) and a Concatenate of two branches, ending in an image so the output is transposed back.
    [Fact]
    public void FunctionalResidualBlockWithAddAndConcatenateRunsInOnnxRuntime()
    {
        var inputs = new Input((12, 10, 4), seed: 5);
        var stem = new Conv2D(8, 3, padding: "same", activation: "relu").Apply(inputs);
        var y = new Conv2D(8, 3, padding: "same", activation: "relu").Apply(stem);
        y = new BatchNormalization().Apply(new Conv2D(8, 3, padding: "same").Apply(y));
        var sum = new Activation("relu").Apply(new Add().Apply(stem, y));
        var branch = new Conv2D(3, 1, activation: "sigmoid").Apply(inputs);
        var joined = new Concatenate().Apply(sum, branch, stem);
        var tall = new Concatenate(axis: 1).Apply(joined, new Conv2D(19, 1).Apply(joined));   // along the height
        var model = new Model(inputs, new Conv2D(2, 3, strides: 2, padding: "same").Apply(tall));
        AssertMatches(model, "functional residual + concatenate");
    }

    [Fact]
    public void FunctionalModelEndingInDenseRunsInOnnxRuntime()
    {
        var inputs = new Input((8, 8, 3), seed: 6);
        var a = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(inputs);
        var b = new Conv2D(4, 3, padding: "same").Apply(a);
        var x = new Flatten().Apply(new MaxPooling2D(2).Apply(new Add().Apply(a, b, new Conv2D(4, 1).Apply(inputs))));
        var model = new Model(inputs, new Dense(2, activation: "leaky_relu").Apply(new Concatenate().Apply(x, new Dense(7).Apply(x))));
        AssertMatches(model, "functional dense head");
    }

    [Fact]
    public void UpsamplingTransposedSeparableDepthwisePaddingAndRescalingRunInOnnxRuntime()
    {
        var model = new Sequential(seed: 7,
            new Rescaling(1.0 / 127.5, offset: -1, inputShape: (9, 10, 3)),
            new ZeroPadding2D(((1, 2), (0, 1))),
            new DepthwiseConv2D(3, strides: 2, padding: "same", depthMultiplier: 2),
            new SeparableConv2D(5, 3, padding: "same", activation: "leaky_relu"),
            new UpSampling2D(2),
            new Conv2DTranspose(4, 3, strides: 2, padding: "same", activation: "tanh"),
            new UpSampling2D((1, 2), interpolation: "bilinear"),
            new Conv2DTranspose(3, 1, strides: 2),                         // kernel below the stride: zero rows plus bias at the end
            new Conv2DTranspose(2, 3, strides: 2, padding: "same", outputPadding: 1),
            new SeparableConv2D(3, (2, 3), strides: 2, padding: "valid", depthMultiplier: 2));
        var g = new Generator(8);
        foreach (var layer in model.Layers)   // biases start at zero: give them values so the bias paths are checked
            foreach (var p in layer.Module?.Parameters() ?? [])
                if (p.Shape.Length == 1) Tensor.Randn(g, p.Shape[0]).AsSpan().CopyTo(p.AsSpan());
        AssertMatches(model, "upsampling/transposed/separable");
    }
}
