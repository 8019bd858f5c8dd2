using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerHarness;

namespace Backprop.Tests.Caffe.Layers;

public class ScaleBiasLayerTests(ITestOutputHelper output)
{
    // x: (2, 2, 3)
    private static readonly float[] Xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    [Fact]
    public void ScaleLearnedPerChannelWithBias()
    {
        var layer = Make("name: \"s\" type: \"Scale\" scale_param { bias_term: true bias_filler { type: \"constant\" value: 0.5 } }", [2, 2, 3]);
        Assert.Equal(2, layer.Blobs.Count);
        Assert.All(layer.Blobs[0].ToArray(), v => Assert.Equal(1f, v));   // filler default constant 1
        Assert.All(layer.Blobs[1].ToArray(), v => Assert.Equal(0.5f, v));
        layer.Blobs[0].AsSpan()[1] = 2f;
        Assert.Equal([1.5f, 2.5f, 3.5f, 8.5f, 10.5f, 12.5f, 7.5f, 8.5f, 9.5f, 20.5f, 22.5f, 24.5f], Forward(layer, Values(Xs, 2, 2, 3)).ToArray());
        CheckGradients(layer, [TestTensors.Leaf(new Generator(1), 2, 2, 3)], output);
    }

    [Fact]
    public void ScaleNumAxesMinusOneAndZeroAndNegativeAxis()
    {
        var toEnd = Make("name: \"s\" type: \"Scale\" scale_param { axis: -2 num_axes: -1 filler { type: \"gaussian\" } }", [2, 2, 3]);
        Assert.Equal(new Shape(2, 3), toEnd.Blobs[0].Shape);
        CheckGradients(toEnd, [TestTensors.Leaf(new Generator(2), 2, 2, 3)], output);
        var scalar = Make("name: \"s\" type: \"Scale\" scale_param { num_axes: 0 bias_term: true filler { type: \"constant\" value: 3 } }", [2, 2, 3]);
        Assert.Equal(0, scalar.Blobs[0].Rank);
        Assert.Equal(0, scalar.Blobs[1].Rank);
        Assert.Equal(Xs.Select(v => 3 * v).ToArray(), Forward(scalar, Values(Xs, 2, 2, 3)).ToArray());
        CheckGradients(scalar, [TestTensors.Leaf(new Generator(3), 2, 2, 3)], output);
    }

    [Fact]
    public void ScaleFromASecondBottomWithLearnedBias()
    {
        var layer = Make("name: \"s\" type: \"Scale\" scale_param { axis: 0 bias_term: true bias_filler { type: \"gaussian\" } }", [2, 2, 3], [2, 2]);
        Assert.Single(layer.Blobs);   // only the bias
        Assert.Equal(new Shape(2, 2), layer.Blobs[0].Shape);
        var s = Leaf([1, -1, 0.5f, 2], 2, 2);
        layer.Blobs[0].AsSpan().Clear();
        Assert.Equal([1f, 2, 3, -4, -5, -6, 3.5f, 4, 4.5f, 20, 22, 24], Forward(layer, Values(Xs, 2, 2, 3), s).ToArray());
        CheckGradients(layer, [TestTensors.Leaf(new Generator(4), 2, 2, 3), TestTensors.Leaf(new Generator(5), 2, 2)], output);
    }

    [Fact]
    public void BiasLearnedAndFromASecondBottom()
    {
        var learned = Make("name: \"b\" type: \"Bias\" bias_param { axis: 2 filler { type: \"constant\" value: 1 } }", [2, 2, 3]);
        Assert.Equal(new Shape(3), learned.Blobs[0].Shape);
        learned.Blobs[0].AsSpan()[2] = -12;
        Assert.Equal([2f, 3, -9, 5, 6, -6, 8, 9, -3, 11, 12, 0], Forward(learned, Values(Xs, 2, 2, 3)).ToArray());
        CheckGradients(learned, [TestTensors.Leaf(new Generator(6), 2, 2, 3)], output);

        var defaults = Make("name: \"b\" type: \"Bias\"", [2, 2, 3]);
        Assert.Equal(new Shape(2), defaults.Blobs[0].Shape);   // axis 1, num_axes 1
        Assert.All(defaults.Blobs[0].ToArray(), v => Assert.Equal(0f, v));

        var two = Make("name: \"b\" type: \"Bias\" bias_param { axis: 1 }", [2, 2, 3], [2, 3]);
        Assert.Empty(two.Blobs);
        Assert.Equal(Xs.Select(v => 2 * v - (v > 6 ? 6 : 0)).ToArray(), Forward(two, Values(Xs, 2, 2, 3), Values(Xs[..6], 2, 3)).ToArray());
        CheckGradients(two, [TestTensors.Leaf(new Generator(7), 2, 2, 3), TestTensors.Leaf(new Generator(8), 2, 3)], output);

        var scalar = Make("name: \"b\" type: \"Bias\" bias_param { axis: 2 }", [2, 2, 3], []);
        Assert.Equal(Xs.Select(v => v + 5).ToArray(), Forward(scalar, Values(Xs, 2, 2, 3), Tensor.Scalar(5f)).ToArray());
    }

    [Theory]
    [InlineData("Bias", "bias_param { num_axes: -2 }", "num_axes must be -1")]
    [InlineData("Bias", "bias_param { axis: 2 num_axes: 2 }", "runs past the last axis")]
    [InlineData("Scale", "scale_param { axis: 3 }", "out of range")]
    [InlineData("Scale", "scale_param { num_axes: -3 }", "num_axes must be -1")]
    public void BadAxesNameTheLayer(string type, string parameters, string expected)
    {
        string message = BuildError($"layer {{ name: \"bad\" type: \"{type}\" bottom: \"data\" top: \"y\" {parameters} }}", [2, 2, 3]);
        Assert.Contains($"Layer 'bad' (type {type})", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void SecondBottomThatDoesNotMatchIsAnError()
    {
        var inputs = ("in1", Tensor.Zeros(3, 2));
        var e = Assert.Throws<Backprop.Caffe.CaffeNetException>(() => Run("layer { name: \"s\" type: \"Scale\" bottom: \"data\" bottom: \"in1\" top: \"y\" }",
            ("data", Tensor.Zeros(2, 2, 3)), inputs));
        Assert.Contains("Layer 's' (type Scale)", e.Message);
        Assert.Contains("does not match", e.Message);
    }

    [Fact]
    public void ScaleAndBiasTrainInANet()
    {
        var (net, result) = Run("""
            layer { name: "scale" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }
            layer { name: "mul" type: "Scale" bottom: "data" bottom: "in1" top: "m" scale_param { axis: 0 } }
            layer { name: "bias" type: "Bias" bottom: "m" top: "b" bias_param { num_axes: -1 } }
            layer { name: "plus" type: "Bias" bottom: "b" bottom: "in1" top: "p" bias_param { axis: 0 } }
            layer { name: "loss" type: "Reduction" bottom: "p" top: "loss" loss_weight: 1 }
            """, ("data", Values(Xs, 2, 2, 3)), ("in1", Values([1, 2, 3, 4], 2, 2)));
        // Σ x·s + s over items, s the per-(item, channel) value of in1: 6·1+15·2+24·3+33·4 + 3·(1+2+3+4)
        Assert.Equal(270f, result.Loss!.ToArray()[0]);
        Assert.All(net.Parameters, p => Assert.NotNull(p.Grad));
    }
}
