using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;

namespace Backprop.Tests.Caffe;

public class DataTransformerTests
{
    // One 2-channel 3x3 image: channel c, pixel (y, x) = 100c + 10y + x.
    private static readonly float[] Pixels = [.. Enumerable.Range(0, 18).Select(i => (float)(100 * (i / 9) + 10 * (i % 9 / 3) + i % 3))];

    [Fact]
    public void SubtractsMeanThenScales()
    {
        var t = new DataTransformer(new TransformationParameter { Scale = 0.5f, MeanValue = { 1, 3 } }, "here");
        t.Setup(2, 3, 3);
        var output = new float[18];
        t.Transform(Pixels, output, new Generator(1), training: true);
        Assert.Equal(Pixels.Select((v, i) => (v - (i < 9 ? 1 : 3)) * 0.5f), output);
    }

    [Fact]
    public void TrainCropDrawsTopThenLeftThenTheMirrorCoin()
    {
        var t = new DataTransformer(null, "here", cropSize: 2, mirror: true);   // the layer parameter's own (deprecated) fields
        t.Setup(2, 3, 3);
        Assert.Equal((2, 2, 2), t.OutputSize);
        for (ulong seed = 0; seed < 20; seed++)
        {
            var draws = new Generator(seed);
            int top = draws.NextInt(2), left = draws.NextInt(2);
            bool flip = draws.NextInt(2) == 1;
            var output = new float[8];
            t.Transform(Pixels, output, new Generator(seed), training: true);
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 2; y++)
                    for (int x = 0; x < 2; x++)
                        Assert.Equal(100 * c + 10 * (top + y) + left + (flip ? 1 - x : x), output[(c * 2 + y) * 2 + x]);
        }
    }

    [Fact]
    public void TestCropIsCentredAndUnmirrored()
    {
        var t = new DataTransformer(new TransformationParameter { CropSize = 1, Mirror = true }, "here");
        t.Setup(2, 3, 3);
        var output = new float[2];
        t.Transform(Pixels, output, new Generator(5), training: false);
        Assert.Equal([11f, 111f], output);
    }

    [Fact]
    public void BadSettingsNameTheLayer()
    {
        var e = Assert.Throws<CaffeNetException>(() => new DataTransformer(new TransformationParameter { CropSize = 4 }, "Layer 'd'").Setup(2, 3, 3));
        Assert.Contains("Layer 'd'", e.Message);
        Assert.Contains("crop_size 4", e.Message);
        Assert.Throws<CaffeNetException>(() => new DataTransformer(new TransformationParameter { MeanValue = { 1, 2, 3 } }, "x").Setup(2, 3, 3));
        Assert.Throws<CaffeNetException>(() => new DataTransformer(new TransformationParameter { MeanFile = "mean.binaryproto" }, "x"));
    }
}
