using Backprop.Keras;
using Xunit.Abstractions;

namespace Backprop.Tests.Keras;

/// <summary>
/// The new convolution and up-sampling layers against PyTorch references built from TensorFlow's definitions
/// (Fixtures/make_keras_layer_fixtures.py), weights set in Keras's layouts; and their gradients (weights included)
/// against finite differences.
/// </summary>
public sealed class NewLayerReferenceTests(ITestOutputHelper output)
{
    private static Layer LayerFor(string name, KerasShape input) => name switch
    {
        "TransposeValidK3S2" => new Conv2DTranspose(3, 3, strides: 2, inputShape: input),
        "TransposeSameK4S2" => new Conv2DTranspose(2, 4, strides: 2, padding: "same", inputShape: input),
        "TransposeSameK3S2OutputPadding0" => new Conv2DTranspose(2, 3, strides: 2, padding: "same", outputPadding: 0, inputShape: input),
        "TransposeValidK1S2" => new Conv2DTranspose(2, 1, strides: 2, inputShape: input),
        "TransposeSameK5S1Rect" => new Conv2DTranspose(2, (5, 3), padding: "same", inputShape: input),
        "DepthwiseSameS2M2" => new DepthwiseConv2D(3, strides: 2, padding: "same", depthMultiplier: 2, inputShape: input),
        "DepthwiseValidM1" => new DepthwiseConv2D((2, 3), inputShape: input),
        "SeparableSameS2M2" => new SeparableConv2D(3, 3, strides: 2, padding: "same", depthMultiplier: 2, inputShape: input),
        "UpSamplingBilinear2x3" => new UpSampling2D((2, 3), "bilinear", inputShape: input),
        "UpSamplingNearest2x2" => new UpSampling2D(2, inputShape: input),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> CaseNames() => [.. KerasLayerFixtures.Cases.Select(c => c.Name)];

    private static Sequential Model(KerasLayerCase c)
    {
        var model = new Sequential(1, LayerFor(c.Name, new KerasShape(c.InputShape[1..])));
        model.Layers[0].SetWeights([.. c.Weights.Select((w, i) => Tensor.FromArray(w, c.WeightShapes[i]))]);
        return model;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OutputMatchesTheReference(string name)
    {
        var c = KerasLayerFixtures.Get(name);
        var model = Model(c);
        var y = model.Predict(Tensor.FromArray(c.Input, c.InputShape));
        Assert.Equal(new Shape(c.OutputShape), y.Shape);
        TestTensors.AssertClose(c.Output, y.ToArray(), 1e-4, name);
        // GetWeights gives back Keras's layouts unchanged.
        var weights = model.Layers[0].GetWeights();
        for (int i = 0; i < weights.Count; i++)
        {
            Assert.Equal(new Shape(c.WeightShapes[i]), weights[i].Shape);
            Assert.Equal(c.Weights[i], weights[i].ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GradientsMatchFiniteDifferences(string name)
    {
        var c = KerasLayerFixtures.Get(name);
        var layer = Model(c).Layers[0];
        var x = Tensor.FromArray(c.Input, c.InputShape).Permute(0, 3, 1, 2);
        x.RequiresGrad = true;
        Tensor[] inputs = [x, .. layer.Module?.Parameters() ?? []];
        GradientCheck.Check(xs => layer.Call(xs[0], training: true), inputs, output, name);
    }

    [Fact]
    public void ZeroPaddingAndRescalingPassGradientsBack()
    {
        var model = new Sequential(1, new Rescaling(0.5, 1, inputShape: (3, 2, 2)), new ZeroPadding2D(((1, 0), (2, 1))));
        var x = Tensor.Randn(new Generator(4), 1, 2, 3, 2);
        x.RequiresGrad = true;
        GradientCheck.Check(xs => model.Layers[1].Call(model.Layers[0].Call(xs[0], true), true), [x], output, "rescale + pad");
    }
}
