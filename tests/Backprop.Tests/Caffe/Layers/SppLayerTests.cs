using Backprop.Caffe;
using Backprop.Caffe.Proto;
using static Backprop.Tests.Caffe.Layers.LayerNets;

namespace Backprop.Tests.Caffe.Layers;

public sealed class SppLayerTests
{
    private static string Spp(int height, string pool, int[] shape) => Input(("data", shape)) +
        $"layer {{ name: \"spp\" type: \"SPP\" bottom: \"data\" top: \"spp\" spp_param {{ pyramid_height: {height} pool: {pool} }} }}";

    [Fact]
    public void MaxLevelsAreFlattenedAndConcatenated()
    {
        var net = Build(Spp(2, "MAX", [1, 1, 4, 4]));
        var x = Arange(1, 1, 4, 4);
        x.RequiresGrad = true;
        var y = Run(net, Phase.Test, ("data", x)).Blobs["spp"];
        // Level 0: the whole plane; level 1: four 2x2 quadrants.
        Assert.Equal(new Shape(1, 5), y.Shape);
        Assert.Equal(new float[] { 15, 5, 7, 13, 15 }, y.ToArray());
        y.Sum().Backward();
        var g = new float[16];
        g[5] = g[7] = g[13] = 1;
        g[15] = 2;
        Assert.Equal(g, x.Grad!.ToArray());
    }

    [Fact]
    public void AverageLevelsPerChannel()
    {
        var y = Run(Build(Spp(2, "AVE", [1, 2, 4, 4])), Phase.Test, ("data", Arange(1, 2, 4, 4))).Blobs["spp"];
        // Channel-major within each level: level 0 for both channels, then level 1's four bins for each channel.
        Assert.Equal(new float[] { 7.5f, 23.5f, 2.5f, 4.5f, 10.5f, 12.5f, 18.5f, 20.5f, 26.5f, 28.5f }, y.ToArray());
    }

    [Fact]
    public void OddSizesArePaddedToTheBinsAndOneLevelStaysFourDimensional()
    {
        // H = W = 5 at level 1: kernel ceil(5/2) = 3, pad (3·2 − 5 + 1)/2 = 1, two bins per side.
        var net = Build(Spp(2, "MAX", [2, 3, 5, 5]));
        Assert.Equal(new Shape(2, 3 * (1 + 4)), net.BlobShapes["spp"]);
        var y = Run(net, Phase.Test, ("data", Arange(2, 3, 5, 5))).Blobs["spp"];
        // Image 0, channel 0, level 1: bins cover rows/cols [-1, 2) and [2, 5); their maxima are x[1,1], x[1,4], x[4,1], x[4,4].
        Assert.Equal(new float[] { 6, 9, 21, 24 }, y.ToArray()[3..7]);
        Assert.Equal(new Shape(2, 3, 1, 1), Build(Spp(1, "AVE", [2, 3, 5, 5])).BlobShapes["spp"]);
    }

    [Fact]
    public void CaffesOwnTestGeometryRuns()
    {
        // Caffe's SPP test: 2x3x9x8, three levels. Level 2 (4 bins) pools 3x2 windows with pad (2, 0), more than half
        // the kernel, which Caffe's pooling allows.
        var net = Build(Spp(3, "MAX", [2, 3, 9, 8]));
        Assert.Equal(new Shape(2, 3 * (1 + 4 + 16)), net.BlobShapes["spp"]);
        var x = Arange(2, 3, 9, 8);
        var y = Run(net, Phase.Test, ("data", x)).Blobs["spp"].ToArray();
        Assert.Equal(71f, y[0]);   // level 0 of image 0, channel 0: the plane's maximum
        // Level 2's first bin of image 0, channel 0 covers rows [−2, 1) and columns [0, 2): x[0, 1] = 1.
        Assert.Equal(1f, y[3 + 3 * 4]);
    }

    [Fact]
    public void PyramidsTooTallForTheBottomAreRefused()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(Spp(3, "MAX", [1, 1, 5, 5])));
        Assert.Contains("Layer 'spp' (type SPP): level 2", e.Message);
        Assert.Throws<CaffeNetException>(() => Build(Spp(20, "MAX", [1, 1, 5, 5])));
    }
}
