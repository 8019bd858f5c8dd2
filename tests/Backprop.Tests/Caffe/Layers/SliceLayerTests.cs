using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerHarness;

namespace Backprop.Tests.Caffe.Layers;

public class SliceLayerTests(ITestOutputHelper output)
{
    // x: (2, 3)
    private static readonly float[] Xs = [1, 2, 3, 4, 5, 6];

    private static IReadOnlyList<Tensor> ForwardAll(Backprop.Caffe.CaffeLayer layer, params Tensor[] bottoms) =>
        layer.Forward(bottoms, new Backprop.Caffe.NetContext(Backprop.Caffe.Proto.Phase.Train), 0);

    [Fact]
    public void SliceAtPointsAlongAnAxis()
    {
        var layer = Make("name: \"s\" type: \"Slice\" top: \"a\" top: \"b\" slice_param { axis: -1 slice_point: 1 }", [2, 3]);
        var tops = ForwardAll(layer, Values(Xs, 2, 3));
        Assert.Equal([1f, 4], tops[0].ToArray());
        Assert.Equal([2f, 3, 5, 6], tops[1].ToArray());
        Assert.Equal(new Shape(2, 2), tops[1].Shape);
        for (int top = 0; top < 2; top++) CheckGradients(layer, [TestTensors.Leaf(new Generator(1), 2, 3)], output, top);
    }

    [Fact]
    public void SliceEquallyWithLegacySliceDim()
    {
        var layer = Make("name: \"s\" type: \"Slice\" top: \"a\" top: \"b\" slice_param { slice_dim: 0 }", [2, 3]);
        var tops = ForwardAll(layer, Values(Xs, 2, 3));
        Assert.Equal([1f, 2, 3], tops[0].ToArray());
        Assert.Equal([4f, 5, 6], tops[1].ToArray());
    }

    [Theory]
    [InlineData("slice_param { slice_point: 2 slice_point: 1 }", "increase strictly")]
    [InlineData("slice_param { slice_point: 1 }", "one fewer than the tops")]
    [InlineData("slice_param { slice_point: 1 slice_point: 4 }", "increase strictly")]
    [InlineData("", "do not evenly divide")]
    [InlineData("slice_param { axis: 1 slice_dim: 1 }", "not both")]
    [InlineData("slice_param { slice_dim: 2 }", "out of range")]
    public void SliceValidationNamesTheLayer(string parameters, string expected)
    {
        string message = BuildError($"layer {{ name: \"sl\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" top: \"c\" {parameters} }}", [2, 4]);
        Assert.Contains("Layer 'sl' (type Slice)", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void TileRepeatsTheBlockFromTheAxis()
    {
        var layer = Make("name: \"t\" type: \"Tile\" tile_param { tiles: 2 }", [2, 3]);
        Assert.Equal([1f, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6], Forward(layer, Values(Xs, 2, 3)).ToArray());
        var first = Make("name: \"t\" type: \"Tile\" tile_param { axis: 0 tiles: 3 }", [2, 3]);
        var y = Forward(first, Values(Xs, 2, 3));
        Assert.Equal(new Shape(6, 3), y.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2, 3], y.ToArray()[..9]);
        CheckGradients(layer, [TestTensors.Leaf(new Generator(2), 2, 3)], output);
        Assert.Contains("Layer 'tl' (type Tile)", BuildError("layer { name: \"tl\" type: \"Tile\" bottom: \"data\" top: \"y\" }", [2, 3]));
        Assert.Contains("positive", BuildError("layer { name: \"tl\" type: \"Tile\" bottom: \"data\" top: \"y\" tile_param { tiles: 0 } }", [2, 3]));
    }

    [Fact]
    public void FilterKeepsItemsWhoseSelectorIsNotZero()
    {
        var layer = Make("name: \"f\" type: \"Filter\" top: \"a\" top: \"b\"", [3, 2], [3], [3, 1]);
        var data = Leaf([1, 2, 3, 4, 5, 6], 3, 2);
        var tops = ForwardAll(layer, data, Values([7, 8, 9], 3), Values([1, 0, 2], 3, 1));
        Assert.Equal([1f, 2, 5, 6], tops[0].ToArray());
        Assert.Equal(new Shape(2, 2), tops[0].Shape);
        Assert.Equal([7f, 9], tops[1].ToArray());
        tops[0].Backward(Values([1, 2, 3, 4], 2, 2));
        Assert.Equal([1f, 2, 0, 0, 3, 4], data.Grad!.ToArray());   // dropped items get no gradient
        Assert.Equal(0, ForwardAll(layer, data, Values([7, 8, 9], 3), Values([0, 0, 0], 3, 1))[0].Shape[0]);
        var selector = Leaf([1, 0, 1], 3, 1);
        ForwardAll(layer, data, Values([7, 8, 9], 3), selector)[0].Sum().Backward();
        Assert.Null(selector.Grad);   // no gradient to the selector
        CheckGradients(layer, [TestTensors.Leaf(new Generator(3), 3, 2), TestTensors.Leaf(new Generator(4), 3), Values([1, 0, 1], 3, 1)], output);
    }

    [Theory]
    [InlineData(new[] { 2, 2 }, "size 1 on every axis but the first")]
    [InlineData(new[] { 4 }, "selector's 4 items")]
    public void FilterValidationNamesTheLayer(int[] selector, string expected)
    {
        string message = BuildError("layer { name: \"f\" type: \"Filter\" bottom: \"data\" bottom: \"in1\" top: \"a\" }", [2, 3], selector);
        Assert.Contains("Layer 'f' (type Filter)", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void BatchReindexPicksItemsAndAddsGradientsOfRepeats()
    {
        var layer = Make("name: \"r\" type: \"BatchReindex\"", [3, 2], [4]);
        var data = Leaf([1, 2, 3, 4, 5, 6], 3, 2);
        var y = Forward(layer, data, Values([2, 0, 2, 1.9f], 4));
        Assert.Equal([5f, 6, 1, 2, 5, 6, 3, 4], y.ToArray());   // 1.9 truncates to 1, as in Caffe
        y.Backward(Tensor.Ones(4, 2));
        Assert.Equal([1f, 1, 1, 1, 2, 2], data.Grad!.ToArray());
        CheckGradients(layer, [TestTensors.Leaf(new Generator(5), 3, 2), Values([1, 1, 0, 2], 4)], output);
        var e = Assert.Throws<Backprop.Caffe.CaffeNetException>(() => Forward(layer, data, Values([0, 3, 0, 0], 4)));
        Assert.Contains("Layer 'r' (type BatchReindex)", e.Message);
        Assert.Contains("outside the batch", e.Message);
        Assert.Contains("must be 1-D", BuildError("layer { name: \"r\" type: \"BatchReindex\" bottom: \"data\" bottom: \"in1\" top: \"y\" }", [3, 2], [2, 1]));
    }

    [Fact]
    public void ParameterLayerTopIsItsLearnableBlob()
    {
        var layer = Make("name: \"p\" type: \"Parameter\" parameter_param { shape { dim: 2 dim: 3 } }");
        Assert.Equal(new Shape(2, 3), layer.Blobs[0].Shape);
        Assert.Same(layer.Blobs[0], ForwardAll(layer)[0]);
        Assert.Contains("Layer 'pp' (type Parameter)", BuildError("layer { name: \"pp\" type: \"Parameter\" top: \"w\" }", [1]));
    }

    [Fact]
    public void StructureLayersRunInANet()
    {
        var (net, result) = Run("""
            layer { name: "w" type: "Parameter" top: "w" parameter_param { shape { dim: 2 dim: 3 } } }
            layer { name: "sum" type: "Eltwise" bottom: "data" bottom: "w" top: "x" }
            layer { name: "slice" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { axis: 1 slice_point: 2 } }
            layer { name: "tile" type: "Tile" bottom: "b" top: "t" tile_param { tiles: 2 } }
            layer { name: "reindex" type: "BatchReindex" bottom: "a" bottom: "perm" top: "r" }
            layer { name: "filter" type: "Filter" bottom: "t" bottom: "sel" top: "f" }
            layer { name: "lossr" type: "Reduction" bottom: "r" top: "lossr" loss_weight: 1 }
            layer { name: "lossf" type: "Reduction" bottom: "f" top: "lossf" loss_weight: 1 }
            """, ("data", Values(Xs, 2, 3)), ("perm", Values([1, 1, 0], 3)), ("sel", Values([0, 1], 2)));
        // r = rows 1, 1, 0 of the first two columns: 2·(4 + 5) + (1 + 2); f = row 1 of column 2 tiled twice: 2·6
        Assert.Equal(21f + 12f, result.Loss!.ToArray()[0]);
        Assert.Equal([1f, 1, 0, 2, 2, 2], net.Layers.Single(l => l.Name == "w").Blobs[0].Grad!.ToArray());
    }
}
