using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerHarness;

namespace Backprop.Tests.Caffe.Layers;

public class PowerExpLogLayerTests(ITestOutputHelper output)
{
    private static readonly float[] Xs = [0.5f, 1f, 2f, 3f];

    [Fact]
    public void PowerForwardAndGradient()
    {
        var layer = Make("name: \"p\" type: \"Power\" power_param { power: 2 scale: 3 shift: -1 }", [4]);
        // (3x − 1)²
        Assert.Equal([0.25f, 4f, 25f, 64f], Forward(layer, Values(Xs, 4)).ToArray());
        CheckGradients(layer, [TestTensors.Leaf(new Generator(1), 2, 3)], output);
        var fractional = Make("name: \"p\" type: \"Power\" power_param { power: 0.5 shift: 2 }", [4]);
        CheckGradients(fractional, [TestTensors.UniformLeaf(new Generator(2), 0f, 3f, 4)], output);
    }

    [Theory]
    [InlineData("power: 0 shift: 5", 1f)]
    [InlineData("scale: 0 shift: 3 power: 2", 9f)]
    public void PowerWithZeroPowerOrScaleIsAConstantWithZeroGradient(string parameters, float value)
    {
        var layer = Make($"name: \"p\" type: \"Power\" power_param {{ {parameters} }}", [4]);
        var x = Leaf(Xs, 4);
        var y = Forward(layer, x);
        Assert.All(y.ToArray(), v => Assert.Equal(value, v));
        Assert.False(y.RequiresGrad);   // Caffe: diff_scale 0 gives a zero bottom diff
    }

    [Fact]
    public void PowerDefaultsAreTheIdentity()
    {
        var (_, result) = Run("layer { name: \"p\" type: \"Power\" bottom: \"data\" top: \"p\" }", ("data", Values(Xs, 4)));
        Assert.Equal(Xs, result.Blobs["p"].ToArray());
    }

    [Fact]
    public void ExpWithDefaultBaseIsEToTheShiftedScaledInput()
    {
        var layer = Make("name: \"e\" type: \"Exp\" exp_param { scale: 2 shift: -1 }", [4]);
        var y = Forward(layer, Values(Xs, 4)).ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(MathF.Exp(2 * Xs[i] - 1), y[i], 4);
        CheckGradients(layer, [TestTensors.Leaf(new Generator(3), 5)], output);
    }

    [Fact]
    public void ExpWithBaseTwo()
    {
        var layer = Make("name: \"e\" type: \"Exp\" exp_param { base: 2 shift: 1 }", [4]);
        TestTensors.AssertClose([2.828427f, 4f, 8f, 16f], Forward(layer, Values(Xs, 4)).ToArray(), 1e-6, "2^(1 + x)");
        CheckGradients(layer, [TestTensors.Leaf(new Generator(4), 5)], output);
    }

    [Fact]
    public void LogWithBaseTenAndShift()
    {
        var layer = Make("name: \"l\" type: \"Log\" log_param { base: 10 scale: 2 shift: 1 }", [4]);
        var y = Forward(layer, Values([4.5f, 49.5f, 0f, 2f], 4)).ToArray();
        Assert.Equal([1f, 2f, 0f], y[..3].Select(v => MathF.Round(v, 6)).ToArray());
        Assert.Equal(MathF.Log10(5), y[3], 6);
        CheckGradients(layer, [TestTensors.UniformLeaf(new Generator(5), 0.5f, 3f, 5)], output);
        var natural = Make("name: \"l\" type: \"Log\"", [1]);
        Assert.Equal(1f, Forward(natural, Values([MathF.E], 1)).ToArray()[0], 6);
    }

    [Theory]
    [InlineData("Exp", "exp_param { base: -2 }", "base must be positive")]
    [InlineData("Exp", "exp_param { base: 0 }", "base must be positive")]
    [InlineData("Log", "log_param { base: 1 }", "not 1")]
    [InlineData("Log", "log_param { base: -3 }", "base must be positive")]
    [InlineData("Power", "power_param { power: nan }", "finite")]
    public void BadParametersNameTheLayer(string type, string parameters, string expected)
    {
        string message = BuildError($"layer {{ name: \"bad\" type: \"{type}\" bottom: \"data\" top: \"y\" {parameters} }}", [2]);
        Assert.Contains($"Layer 'bad' (type {type})", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void PowerExpLogChainTrainsInANet()
    {
        var (net, result) = Run("""
            layer { name: "s" type: "Scale" bottom: "data" top: "s" }
            layer { name: "pow" type: "Power" bottom: "s" top: "s" power_param { power: 2 shift: 1 } }
            layer { name: "log" type: "Log" bottom: "s" top: "l" }
            layer { name: "exp" type: "Exp" bottom: "l" top: "e" exp_param { base: 2 } }
            layer { name: "loss" type: "Reduction" bottom: "e" top: "loss" loss_weight: 1 }
            """, ("data", Values(Xs, 1, 4)));
        // Σ 2^ln((1 + x)²)
        float expected = Xs.Sum(x => MathF.Pow(2, MathF.Log((1 + x) * (1 + x))));
        Assert.Equal(expected, result.Loss!.ToArray()[0], 4);
        Assert.NotNull(net.Layers[1].Blobs[0].Grad);
    }
}
