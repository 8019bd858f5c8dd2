using Backprop.Caffe;
using Backprop.Caffe.Proto;
using static Backprop.Tests.Caffe.Layers.LayerNets;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Caffe's Convolution over 3 and 1 spatial axes.</summary>
public sealed class ConvolutionNdLayerTests
{
    [Fact]
    public void ThreeDimensionalConvolutionWithPerAxisKernelSizes()
    {
        var net = Build(Input(("data", [1, 1, 3, 3, 4])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
              convolution_param { num_output: 2 kernel_size: 2 kernel_size: 3 kernel_size: 1 pad: 0 pad: 1 pad: 0 stride: 1 stride: 1 stride: 2
                weight_filler { type: "constant" value: 1 } bias_filler { type: "constant" value: 0.5 } } }
            """);
        Assert.Equal(new Shape(2, 1, 2, 3, 1), net.Layers[1].Blobs[0].Shape);
        Assert.Equal(new Shape(1, 2, 2, 3, 2), net.BlobShapes["conv"]);
        var x = Arange(1, 1, 3, 3, 4);
        x.RequiresGrad = true;
        var y = Run(net, Phase.Test, ("data", x)).Blobs["conv"];
        // y[k, z, r, q] = 0.5 + Σ over depth z..z+1 and rows r−1..r+1 (inside) of x[·, ·, 2q]; x[a, b, c] = 12a + 4b + c.
        var expected = new float[12];
        for (int z = 0, at = 0; z < 2; z++)
        for (int r = 0; r < 3; r++)
        for (int q = 0; q < 2; q++, at++)
        {
            float s = 0.5f;
            for (int a = z; a <= z + 1; a++)
            for (int b = r - 1; b <= r + 1; b++)
                if (b is >= 0 and < 3) s += 12 * a + 4 * b + 2 * q;
            expected[at] = s;
        }
        Assert.Equal(expected.Concat(expected).ToArray(), y.ToArray());
        y.Sum().Backward();
        Assert.NotNull(net.Layers[1].Blobs[0].Grad);
        Assert.Equal(0f, x.Grad!.ToArray()[1]);   // odd columns are skipped by stride 2 with a 1-wide kernel
    }

    [Fact]
    public void OneDimensionalConvolution()
    {
        var net = Build(Input(("data", [1, 1, 5])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
              convolution_param { num_output: 1 kernel_size: 3 pad: 1 bias_term: false weight_filler { type: "constant" value: 1 } } }
            """);
        Assert.Equal(new Shape(1, 1, 3), net.Layers[1].Blobs[0].Shape);
        var y = Run(net, Phase.Test, ("data", Tensor.FromArray([1, 2, 3, 4, 5], 1, 1, 5))).Blobs["conv"];
        Assert.Equal(new float[] { 3, 6, 9, 12, 9 }, y.ToArray());
    }

    [Fact]
    public void UnsupportedAxisCountsAndMismatchedListsAreRefused()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 2, 2, 2, 2])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 1 kernel_size: 1 } }
            """));
        Assert.Contains("1, 2 or 3 spatial axes", e.Message);
        e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 4, 4, 4])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 1 kernel_size: 1 kernel_size: 2 } }
            """));
        Assert.Contains("kernel_size has 2 values; a convolution over 3 spatial axes takes 1 or 3", e.Message);
        e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 4, 4, 4])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 1 kernel_h: 1 kernel_w: 2 } }
            """));
        Assert.Contains("_h/_w are for 2-D convolution", e.Message);
    }
}
