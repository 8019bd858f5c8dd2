using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerHarness;

namespace Backprop.Tests.Caffe.Layers;

public class ReductionLayerTests(ITestOutputHelper output)
{
    // x: (2, 3)
    private static readonly float[] Xs = [1, -2, 3, -4, 5, 6];

    [Theory]
    [InlineData("SUM", 0, 1f, new[] { 9f })]
    [InlineData("ASUM", 0, 0.5f, new[] { 10.5f })]
    [InlineData("SUMSQ", 1, 1f, new[] { 14f, 77f })]
    [InlineData("MEAN", -2, 2f, new[] { 4f / 3, 14f / 3 })]
    [InlineData("SUM", 2, 1f, new[] { 1f, -2, 3, -4, 5, 6 })]
    public void ReductionForwardAndGradient(string operation, int axis, float coeff, float[] expected)
    {
        var layer = Make($"name: \"r\" type: \"Reduction\" reduction_param {{ operation: {operation} axis: {axis} coeff: {coeff} }}", [2, 3, 1]);
        var y = Forward(layer, Values(Xs, 2, 3, 1));
        TestTensors.AssertClose(expected, y.ToArray(), 1e-6, operation);
        Assert.Equal(axis == 0 ? 0 : axis == 2 ? 2 : 1, y.Rank);
        CheckGradients(layer, [TestTensors.AwayFrom(new Generator(1), 0f, 0.05f, 2, 3, 1)], output);
    }

    [Fact]
    public void ReductionAxisOutOfRangeNamesTheLayer()
    {
        string message = BuildError("layer { name: \"r\" type: \"Reduction\" bottom: \"data\" top: \"y\" reduction_param { axis: 2 } }", [2, 3]);
        Assert.Contains("Layer 'r' (type Reduction)", message);
        Assert.Contains("axis 2", message);
    }

    [Fact]
    public void ArgMaxWithoutAxisGivesIndicesAndValuesPerItem()
    {
        var x = Values([0.5f, 3f, -1f, 3f, 2f, 0f, 7f, 1f, 1f, 6f], 2, 5);
        var plain = Make("name: \"a\" type: \"ArgMax\"", [2, 5]);
        var top = Forward(plain, x);
        Assert.Equal(new Shape(2, 1, 1), top.Shape);
        Assert.Equal([3f, 1f], top.ToArray());   // ties go to the larger index, as Caffe's sort of (value, index) pairs
        var both = Make("name: \"a\" type: \"ArgMax\" argmax_param { out_max_val: true top_k: 2 }", [2, 5]);
        var values = Forward(both, x);
        Assert.Equal(new Shape(2, 2, 2), values.Shape);
        Assert.Equal([3f, 1f, 3f, 3f, 1f, 4f, 7f, 6f], values.ToArray());
    }

    [Fact]
    public void ArgMaxAlongAnAxis()
    {
        // x: (2, 3, 2); along axis 1
        var x = Values([1, 9, 5, 2, 3, 4, 0, 0, -1, 8, 7, 1], 2, 3, 2);
        var indices = Make("name: \"a\" type: \"ArgMax\" argmax_param { axis: 1 }", [2, 3, 2]);
        Assert.Equal(new Shape(2, 1, 2), Forward(indices, x).Shape);
        Assert.Equal([1f, 0f, 2f, 1f], Forward(indices, x).ToArray());
        var values = Make("name: \"a\" type: \"ArgMax\" argmax_param { axis: -2 top_k: 2 out_max_val: true }", [2, 3, 2]);
        Assert.Equal([5f, 9f, 3f, 4f, 7f, 8f, 0f, 1f], Forward(values, x).ToArray());
    }

    [Theory]
    [InlineData("argmax_param { top_k: 7 }", "top_k 7")]
    [InlineData("argmax_param { axis: 1 top_k: 4 }", "top_k 4")]
    [InlineData("argmax_param { axis: 2 }", "out of range")]
    [InlineData("argmax_param { top_k: 0 }", "at least 1")]
    public void ArgMaxValidationNamesTheLayer(string parameters, string expected)
    {
        string message = BuildError($"layer {{ name: \"am\" type: \"ArgMax\" bottom: \"data\" top: \"y\" {parameters} }}", [2, 3]);
        Assert.Contains("Layer 'am' (type ArgMax)", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void MvnSubtractsTheMeanAndDividesByTheDeviationPlusEps()
    {
        // x: (1, 2, 4); channel 0 has mean 2.5 and deviation √1.25; channel 1 is constant
        var x = Values([1, 2, 3, 4, 5, 5, 5, 5], 1, 2, 4);
        var layer = Make("name: \"m\" type: \"MVN\" mvn_param { eps: 0.5 }", [1, 2, 4]);
        float s = MathF.Sqrt(1.25f) + 0.5f;
        TestTensors.AssertClose([-1.5f / s, -0.5f / s, 0.5f / s, 1.5f / s, 0, 0, 0, 0], Forward(layer, x).ToArray(), 1e-6, "mvn");
        var meanOnly = Make("name: \"m\" type: \"MVN\" mvn_param { normalize_variance: false across_channels: true }", [1, 2, 4]);
        TestTensors.AssertClose([-2.75f, -1.75f, -0.75f, 0.25f, 1.25f, 1.25f, 1.25f, 1.25f], Forward(meanOnly, x).ToArray(), 1e-6, "mvn mean only");
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void MvnGradient(bool normalizeVariance, bool acrossChannels)
    {
        var layer = Make($"name: \"m\" type: \"MVN\" mvn_param {{ normalize_variance: {normalizeVariance.ToString().ToLowerInvariant()} across_channels: {acrossChannels.ToString().ToLowerInvariant()} }}", [2, 3, 2, 2]);
        CheckGradients(layer, [TestTensors.Leaf(new Generator(2), 2, 3, 2, 2)], output, step: 1e-3);
    }

    [Fact]
    public void MvnGradientOfAConstantRowIsFinite()
    {
        var layer = Make("name: \"m\" type: \"MVN\"", [1, 1, 3]);
        var x = Leaf([2f, 2f, 2f], 1, 1, 3);
        Forward(layer, x).Backward(Values([1f, -2f, 4f], 1, 1, 3));
        Assert.All(x.Grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ReductionArgMaxAndMvnRunInANet()
    {
        var (_, result) = Run("""
            layer { name: "mvn" type: "MVN" bottom: "data" top: "n" }
            layer { name: "am" type: "ArgMax" bottom: "n" top: "am" argmax_param { axis: 1 } }
            layer { name: "loss" type: "Reduction" bottom: "n" top: "loss" reduction_param { operation: SUMSQ } loss_weight: 1 }
            """, ("data", Values([1, 2, 3, 4, 5, 7, 9, 11, -1, 0, 1, 2], 2, 2, 3)));
        Assert.Equal(12f, result.Loss!.ToArray()[0], 3);   // every normalized row has Σy² = 3
        Assert.Equal(new Shape(2, 1, 3), result.Blobs["am"].Shape);
        Assert.Contains("Layer 'mvn' (type MVN)", BuildError("layer { name: \"mvn\" type: \"MVN\" bottom: \"data\" top: \"n\" }", [1, 1, 1, 1, 2]));
    }
}
