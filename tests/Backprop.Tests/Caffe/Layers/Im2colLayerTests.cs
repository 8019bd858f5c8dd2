using Backprop.Caffe.Proto;
using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerNets;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.Caffe.Layers;

public sealed class Im2colLayerTests(ITestOutputHelper output)
{
    [Fact]
    public void EachKernelPositionBecomesAChannelAndBackwardCountsTheWindowsOverEachPixel()
    {
        var net = Build(Input(("data", [1, 1, 3, 3])) + """
            layer { name: "cols" type: "Im2col" bottom: "data" top: "cols" convolution_param { kernel_size: 2 } }
            """);
        var x = Arange(1, 1, 3, 3);
        x.RequiresGrad = true;
        var cols = Run(net, Phase.Test, ("data", x)).Blobs["cols"];
        Assert.Equal(new Shape(1, 4, 2, 2), cols.Shape);
        // Channel kh·2 + kw holds x[oh + kh, ow + kw].
        Assert.Equal(new float[] { 0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8 }, cols.ToArray());
        cols.Sum().Backward();
        Assert.Equal(new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 }, x.Grad!.ToArray());
    }

    [Fact]
    public void PaddingStrideAndTwoChannels()
    {
        var net = Build(Input(("data", [1, 2, 3, 3])) + """
            layer { name: "cols" type: "Im2col" bottom: "data" top: "cols" convolution_param { kernel_size: 2 stride: 2 pad: 1 } }
            """);
        var cols = Run(net, Phase.Test, ("data", Arange(1, 2, 3, 3))).Blobs["cols"];
        Assert.Equal(new Shape(1, 8, 2, 2), cols.Shape);
        // Channel (c·2 + kh)·2 + kw at (oh, ow) reads x[c, 2·oh − 1 + kh, 2·ow − 1 + kw]; outside is 0.
        Assert.Equal(new float[] { 0, 0, 0, 4, 0, 0, 3, 5, 0, 1, 0, 7, 0, 2, 6, 8,
                                   0, 0, 0, 13, 0, 0, 12, 14, 0, 10, 0, 16, 9, 11, 15, 17 }, cols.ToArray());
    }

    [Fact]
    public void UnfoldGradientMatchesFiniteDifferences()
    {
        var g = new Generator(6);
        GradientCheck.Check(xs => Backprop.Functional.Unfold(xs[0], (3, 2), (2, 1), (1, 1), (1, 2)), [Leaf(g, 2, 2, 5, 5)], output, "unfold");
    }
}
