using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerHarness;

namespace Backprop.Tests.Caffe.Layers;

public class ActivationLayerTests(ITestOutputHelper output)
{
    private static readonly float[] Xs = [-2f, -0.5f, 0.25f, 1.5f, -1f, 3f];

    [Fact]
    public void PreluUsesOneSlopePerChannelAndDefaultsToAQuarter()
    {
        var layer = Make("name: \"p\" type: \"PReLU\"", [1, 2, 3]);
        Assert.Equal(new Shape(2), layer.Blobs[0].Shape);
        Assert.All(layer.Blobs[0].ToArray(), v => Assert.Equal(0.25f, v));
        layer.Blobs[0].AsSpan()[1] = -1f;
        // channel 0: -2, -0.5, 0.25 with slope 0.25; channel 1: 1.5, -1, 3 with slope -1
        Assert.Equal([-0.5f, -0.125f, 0.25f, 1.5f, 1f, 3f], Forward(layer, Values(Xs, 1, 2, 3)).ToArray());
    }

    [Fact]
    public void PreluChannelSharedHasOneScalarSlopeFromItsFiller()
    {
        var layer = Make("name: \"p\" type: \"PReLU\" prelu_param { channel_shared: true filler { type: \"constant\" value: 0.5 } }", [1, 2, 3]);
        Assert.Equal(0, layer.Blobs[0].Rank);   // Caffe stores a shared slope as a scalar blob
        Assert.Equal([-1f, -0.25f, 0.25f, 1.5f, -0.5f, 3f], Forward(layer, Values(Xs, 1, 2, 3)).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PreluGradientsReachInputAndSlopes(bool shared)
    {
        var layer = Make($"name: \"p\" type: \"PReLU\" prelu_param {{ channel_shared: {(shared ? "true" : "false")} filler {{ type: \"uniform\" min: -0.5 max: 0.5 }} }}", [2, 3, 2, 2]);
        var x = TestTensors.AwayFrom(new Generator(3), 0f, 0.05f, 2, 3, 2, 2);
        CheckGradients(layer, [x], output);
    }

    [Fact]
    public void PreluMatchesPyTorch()
    {
        foreach (var c in PreluEluFixtures.Prelu)
        {
            var layer = Make($"name: \"p\" type: \"PReLU\" prelu_param {{ channel_shared: {(c.Weight.Length == 1 ? "true" : "false")} }}", PreluEluFixtures.Shape);
            c.Weight.CopyTo(layer.Blobs[0].AsSpan());
            var x = Leaf(PreluEluFixtures.X, PreluEluFixtures.Shape);
            var y = Forward(layer, x);
            y.Backward(Values(PreluEluFixtures.Dy, PreluEluFixtures.Shape));
            TestTensors.AssertClose(c.Y, y.ToArray(), 1e-6, $"prelu {c.Name} y");
            TestTensors.AssertClose(c.Dx, x.Grad!.ToArray(), 1e-6, $"prelu {c.Name} dx");
            TestTensors.AssertClose(c.DWeight, layer.Blobs[0].Grad!.ToArray(), 1e-5, $"prelu {c.Name} dweight");
            output.WriteLine($"prelu {c.Name}: y, dx, dweight match PyTorch");
        }
    }

    [Fact]
    public void EluMatchesPyTorchIncludingTheGradientAtZero()
    {
        foreach (var c in PreluEluFixtures.Elu)
        {
            var layer = Make($"name: \"e\" type: \"ELU\" elu_param {{ alpha: {c.Alpha} }}", PreluEluFixtures.Shape);
            var x = Leaf(PreluEluFixtures.X, PreluEluFixtures.Shape);
            var y = Forward(layer, x);
            y.Backward(Values(PreluEluFixtures.Dy, PreluEluFixtures.Shape));
            TestTensors.AssertClose(c.Y, y.ToArray(), 1e-6, $"elu alpha {c.Alpha} y");
            TestTensors.AssertClose(c.Dx, x.Grad!.ToArray(), 1e-6, $"elu alpha {c.Alpha} dx");
        }
    }

    [Fact]
    public void EluForwardAndGradient()
    {
        var layer = Make("name: \"e\" type: \"ELU\" elu_param { alpha: 2 }", [6]);
        var y = Forward(layer, Values([-1f, 0f, 2f, -3f, 0.5f, -0.1f], 6)).ToArray();
        Assert.Equal(2 * (MathF.Exp(-1) - 1), y[0], 6);
        Assert.Equal([0f, 2f], y[1..3]);
        CheckGradients(layer, [TestTensors.AwayFrom(new Generator(4), 0f, 0.05f, 6)], output);
    }

    [Fact]
    public void BnllIsSoftplusWithoutOverflow()
    {
        var layer = Make("name: \"b\" type: \"BNLL\"", [4]);
        var y = Forward(layer, Values([0f, 100f, -100f, 1f], 4)).ToArray();
        Assert.Equal(MathF.Log(2), y[0], 6);
        Assert.Equal(100f, y[1], 4);
        Assert.True(y[2] >= 0 && y[2] < 1e-30);
        Assert.Equal(MathF.Log(1 + MathF.E), y[3], 6);
        CheckGradients(layer, [TestTensors.Leaf(new Generator(5), 4)], output);
    }

    [Fact]
    public void AbsValForwardAndGradient()
    {
        var layer = Make("name: \"a\" type: \"AbsVal\"", [6]);
        Assert.Equal([2f, 0.5f, 0.25f, 1.5f, 1f, 3f], Forward(layer, Values(Xs, 6)).ToArray());
        CheckGradients(layer, [TestTensors.AwayFrom(new Generator(6), 0f, 0.05f, 6)], output);
    }

    [Fact]
    public void SwishForwardAndGradient()
    {
        var layer = Make("name: \"s\" type: \"Swish\" swish_param { beta: 2 }", [6]);
        var y = Forward(layer, Values(Xs, 6)).ToArray();
        for (int i = 0; i < Xs.Length; i++) Assert.Equal(Xs[i] / (1 + MathF.Exp(-2 * Xs[i])), y[i], 6);
        CheckGradients(layer, [TestTensors.Leaf(new Generator(7), 6)], output);
    }

    [Fact]
    public void ClipForwardGradientAndValidation()
    {
        var layer = Make("name: \"c\" type: \"Clip\" clip_param { min: -1 max: 2 }", [6]);
        Assert.Equal([-1f, -0.5f, 0.25f, 1.5f, -1f, 2f], Forward(layer, Values(Xs, 6)).ToArray());
        var x = Leaf([-2f, -1f, 0f, 2f, 2.5f], 5);
        Forward(Make("name: \"c\" type: \"Clip\" clip_param { min: -1 max: 2 }", [5]), x).Sum().Backward();
        Assert.Equal([0f, 1f, 1f, 1f, 0f], x.Grad!.ToArray());   // Caffe passes the gradient at the bounds
        Assert.Contains("Layer 'c' (type Clip)", BuildError("layer { name: \"c\" type: \"Clip\" bottom: \"data\" top: \"c\" clip_param { min: 3 max: 2 } }", [2]));
        Assert.Contains("min and max", BuildError("layer { name: \"c\" type: \"Clip\" bottom: \"data\" top: \"c\" }", [2]));
    }

    [Fact]
    public void ThresholdForwardIsAStep()
    {
        var layer = Make("name: \"t\" type: \"Threshold\" threshold_param { threshold: 0.25 }", [6]);
        Assert.Equal([0f, 0f, 0f, 1f, 0f, 1f], Forward(layer, Values(Xs, 6)).ToArray());
    }

    [Fact]
    public void ThresholdRefusesBackwardNamingTheLayerLikeCaffe()
    {
        var layer = Make("name: \"t\" type: \"Threshold\"", [3]);
        var x = Leaf([1f, -1f, 0f], 3);
        var e = Assert.Throws<InvalidOperationException>(() => Forward(layer, x).Sum().Backward());
        Assert.Contains("Layer 't' (type Threshold)", e.Message);
        Assert.Contains("propagate_down", e.Message);
        // With propagate_down: false the net trains through the rest of the graph.
        var (_, result) = Run("""
            layer { name: "s" type: "Scale" bottom: "data" top: "s" }
            layer { name: "t" type: "Threshold" bottom: "s" top: "t" propagate_down: false }
            layer { name: "r" type: "Reduction" bottom: "t" top: "loss" loss_weight: 1 }
            """, ("data", Values(Xs, 2, 3)));
        Assert.Equal(3f, result.Loss!.ToArray()[0]);
    }

    [Fact]
    public void ActivationsRunInPlaceInANet()
    {
        var (net, result) = Run("""
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 4 weight_filler { type: "xavier" } } }
            layer { name: "prelu" type: "PReLU" bottom: "ip" top: "ip" }
            layer { name: "elu" type: "ELU" bottom: "ip" top: "ip" }
            layer { name: "bnll" type: "BNLL" bottom: "ip" top: "ip" }
            layer { name: "abs" type: "AbsVal" bottom: "ip" top: "ip" }
            layer { name: "swish" type: "Swish" bottom: "ip" top: "ip" }
            layer { name: "clip" type: "Clip" bottom: "ip" top: "ip" clip_param { min: -5 max: 5 } }
            layer { name: "loss" type: "Reduction" bottom: "ip" top: "loss" reduction_param { operation: SUMSQ } loss_weight: 1 }
            """, ("data", Values(Xs, 2, 3)));
        Assert.True(float.IsFinite(result.Loss!.ToArray()[0]));
        var slopes = net.Layers.Single(l => l.Name == "prelu").Blobs[0];
        Assert.Equal(new Shape(4), slopes.Shape);
        Assert.NotNull(slopes.Grad);
        Assert.Contains("Layer 'prelu' (type PReLU)", BuildError("layer { name: \"prelu\" type: \"PReLU\" bottom: \"data\" top: \"p\" }", [3]));
    }
}
