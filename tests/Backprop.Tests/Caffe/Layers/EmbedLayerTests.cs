using Backprop.Caffe;
using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.RecurrentFixtures;
using static Backprop.Tests.Caffe.Layers.RecurrentLayerTestKit;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Caffe's Embed against torch.nn.Embedding (plus the bias), its gradient, and its refusals.</summary>
public class EmbedLayerTests(ITestOutputHelper output)
{
    private static CaffeLayer Embed(int inputDim, int numOutput, Shape bottom, string extra = "") =>
        Make($"name: 'embed' type: 'Embed' embed_param {{ input_dim: {inputDim} num_output: {numOutput} weight_filler {{ type: 'gaussian' std: 1 }} {extra} }}", bottom);

    [Fact]
    public void MatchesPyTorchForwardAndBackward()
    {
        var d = EmbedDims;   // input_dim, num_output, index shape
        var indexShape = d[2..];
        var layer = Embed(d[0], d[1], new Shape(indexShape));
        Assert.Equal([new Shape(d[0], d[1]), new Shape(d[1])], layer.Blobs.Select(b => b.Shape));
        SetBlob(layer, 0, EmbedW);
        SetBlob(layer, 1, EmbedB);
        var top = Forward(layer, Tensor.FromArray(EmbedIndices, indexShape))[0];
        Assert.Equal(new Shape([.. indexShape, d[1]]), top.Shape);
        Close(EmbedTop, top, "top", 1e-6f);
        (top * Tensor.FromArray(EmbedR, top.Shape.ToArray())).Sum().Backward();
        Close(EmbedDW, layer.Blobs[0].Grad, "dW", 1e-6f);   // repeated indices add up
        Close(EmbedDB, layer.Blobs[1].Grad, "db", 1e-6f);
    }

    [Fact]
    public void WithoutBiasTheTopIsTheWeightRow()
    {
        var layer = Embed(4, 2, new Shape(3), "bias_term: false");
        Assert.Single(layer.Blobs);
        var w = layer.Blobs[0].ToArray();
        var top = Forward(layer, Tensor.FromArray([3, 0, 3], 3))[0].ToArray();
        Assert.Equal([w[6], w[7], w[0], w[1], w[6], w[7]], top);
    }

    [Fact]
    public void GradientCheckOfTheBlobs()
    {
        var layer = Embed(5, 3, new Shape(2, 2), "bias_filler { type: 'gaussian' std: 1 }");
        var indices = Tensor.FromArray([4, 1, 4, 0], 2, 2);
        GradientCheck.Check(t => Forward(layer, t[0])[0], [indices, .. layer.Blobs], output, "Embed", ["indices", "W", "b"]);
    }

    [Theory]
    [InlineData(5f)]
    [InlineData(-1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void AnIndexOutsideTheTableNamesTheLayerAndTheValue(float bad)
    {
        var layer = Embed(5, 3, new Shape(3));
        var e = Assert.Throws<CaffeNetException>(() => Forward(layer, Tensor.FromArray([0, bad, 2], 3)));
        Assert.Contains("'embed'", e.Message);
        Assert.Contains("element 1", e.Message);
        Assert.Contains("[0, 5)", e.Message);
    }

    [Fact]
    public void MissingInputDimIsRefusedAtSetup()
    {
        var e = Assert.Throws<CaffeNetException>(() => Make("name: 'embed' type: 'Embed' embed_param { num_output: 3 }", new Shape(2)));
        Assert.Contains("input_dim", e.Message);
    }
}
