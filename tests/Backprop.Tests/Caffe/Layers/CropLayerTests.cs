using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerNets;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.Caffe.Layers;

public sealed class CropLayerTests(ITestOutputHelper output)
{
    [Fact]
    public void CropsFromTheAxisOnAtTheOffsetsAndSendsTheGradientToTheFirstBottomOnly()
    {
        var net = Build(Input(("a", [1, 2, 4, 5]), ("b", [1, 1, 2, 3])) + """
            layer { name: "crop" type: "Crop" bottom: "a" bottom: "b" top: "c" crop_param { axis: 2 offset: 1 offset: 2 } }
            """);
        var a = Arange(1, 2, 4, 5);
        var b = Tensor.Zeros(1, 1, 2, 3);
        a.RequiresGrad = b.RequiresGrad = true;
        var c = Run(net, Phase.Test, ("a", a), ("b", b)).Blobs["c"];
        Assert.Equal(new Shape(1, 2, 2, 3), c.Shape);   // channels kept (before the axis), H and W from b
        // a[0, ch, 1 + i, 2 + j] = ch·20 + (1 + i)·5 + 2 + j
        Assert.Equal(new float[] { 7, 8, 9, 12, 13, 14, 27, 28, 29, 32, 33, 34 }, c.ToArray());
        c.Sum().Backward();
        var ga = a.Grad!.ToArray();
        for (int i = 0; i < ga.Length; i++)
        {
            int h = i / 5 % 4, w = i % 5;
            Assert.Equal(h is 1 or 2 && w >= 2 ? 1f : 0f, ga[i]);
        }
        Assert.Null(b.Grad);
    }

    [Fact]
    public void OneOffsetServesEveryCroppedAxisAndANegativeAxisCountsFromTheEnd()
    {
        var net = Build(Input(("a", [2, 3, 4]), ("b", [2, 2, 2])) + """
            layer { name: "crop" type: "Crop" bottom: "a" bottom: "b" top: "c" crop_param { axis: -2 offset: 1 } }
            """);
        var c = Run(net, Phase.Test, ("a", Arange(2, 3, 4)), ("b", Tensor.Zeros(2, 2, 2))).Blobs["c"];
        // a[n, 1 + i, 1 + j] = n·12 + (1 + i)·4 + 1 + j
        Assert.Equal(new float[] { 5, 6, 9, 10, 17, 18, 21, 22 }, c.ToArray());
    }

    [Fact]
    public void ACropThatDoesNotFitIsRefused()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(Input(("a", [1, 1, 4, 4]), ("b", [1, 1, 3, 3])) + """
            layer { name: "crop" type: "Crop" bottom: "a" bottom: "b" top: "c" crop_param { offset: 2 } }
            """));
        Assert.Contains("Layer 'crop' (type Crop): axis 2: cropping 3 at offset 2", e.Message);
        e = Assert.Throws<CaffeNetException>(() => Build(Input(("a", [1, 1, 4, 4]), ("b", [1, 1, 3, 3])) + """
            layer { name: "crop" type: "Crop" bottom: "a" bottom: "b" top: "c" crop_param { axis: 1 offset: 0 offset: 1 } }
            """));
        Assert.Contains("2 offsets given", e.Message);
    }

    [Fact]
    public void CropGradientMatchesFiniteDifferences()
    {
        var g = new Generator(5);
        GradientCheck.Check(xs => xs[0].Crop([1, 0, 2, 1], [1, 3, 2, 3]), [Leaf(g, 3, 3, 5, 4)], output, "crop");
    }
}
