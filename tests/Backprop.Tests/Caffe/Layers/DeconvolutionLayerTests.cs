using Backprop.Caffe;
using Backprop.Caffe.Proto;
using static Backprop.Tests.Caffe.Layers.LayerNets;

namespace Backprop.Tests.Caffe.Layers;

public sealed class DeconvolutionLayerTests
{
    [Fact]
    public void StrideTwoWithAKernelOfOnesRepeatsEachPixelIntoABlock()
    {
        var net = Build(Input(("data", [1, 1, 2, 2])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
              convolution_param { num_output: 1 kernel_size: 2 stride: 2 bias_term: false weight_filler { type: "constant" value: 1 } } }
            """);
        var x = Tensor.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var up = Run(net, Phase.Test, ("data", x)).Blobs["up"];
        Assert.Equal(new Shape(1, 1, 4, 4), up.Shape);
        Assert.Equal(new float[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }, up.ToArray());
        // d(sum of top)/d(weight[u, v]) = the sum of the input, 10, for every kernel position; the input's gradient is the kernel's sum, 4.
        x.RequiresGrad = true;
        up = Run(net, Phase.Test, ("data", x)).Blobs["up"];
        up.Sum().Backward();
        Assert.All(net.Layers[1].Blobs[0].Grad!.ToArray(), g => Assert.Equal(10f, g));
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(4f, g));
    }

    [Fact]
    public void OverlappingWindowsAccumulate()
    {
        // Caffe's own check (test_deconvolution_layer.cpp): ones through a 3x3 kernel of ones at stride 2, 3 input channels, bias 0.1.
        var net = Build(Input(("data", [2, 3, 6, 4])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
              convolution_param { num_output: 4 kernel_size: 3 stride: 2 weight_filler { type: "constant" value: 1 } bias_filler { type: "constant" value: 0.1 } } }
            """);
        var top = Run(net, Phase.Test, ("data", Tensor.Ones(2, 3, 6, 4))).Blobs["up"];
        Assert.Equal(new Shape(2, 4, 13, 9), top.Shape);
        var y = top.ToArray();
        for (int i = 0; i < y.Length; i++)
        {
            int h = i / 9 % 13, w = i % 9;
            bool hOverlap = h % 2 == 0 && h > 0 && h < 12, wOverlap = w % 2 == 0 && w > 0 && w < 8;
            float expected = 3.1f + (hOverlap && wOverlap ? 9 : hOverlap || wOverlap ? 3 : 0);
            Assert.True(Math.Abs(y[i] - expected) < 1e-4, $"top[{i}] (h {h}, w {w}): {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void WeightsAreStoredInputChannelsFirstAndTheTopFollowsCaffesSizeRule()
    {
        var net = Build(Input(("data", [2, 4, 5, 5])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
              convolution_param { num_output: 6 group: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 dilation: 2
                weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.5 } } }
            """);
        var layer = net.Layers[1];
        Assert.Equal(new Shape(4, 3, 3, 2), layer.Blobs[0].Shape);   // (C, num_output / group, KH, KW)
        Assert.Equal(new Shape(6), layer.Blobs[1].Shape);
        // H: (5 - 1)·2 − 2·1 + 2·(3 − 1) + 1 = 11; W: (5 − 1)·1 − 0 + 2·(2 − 1) + 1 = 7.
        Assert.Equal(new Shape(2, 6, 11, 7), net.BlobShapes["up"]);
        var top = Run(net, Phase.Test, ("data", Tensor.Zeros(2, 4, 5, 5))).Blobs["up"];
        Assert.All(top.ToArray(), v => Assert.Equal(0.5f, v));   // zero input: only the bias
    }

    [Fact]
    public void ThreeDimensionalDeconvolution()
    {
        var net = Build(Input(("data", [1, 2, 2, 3, 2])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
              convolution_param { num_output: 4 group: 2 kernel_size: 2 kernel_size: 3 kernel_size: 2 stride: 2 pad: 0 pad: 1 pad: 0
                weight_filler { type: "constant" value: 1 } bias_term: false } }
            """);
        Assert.Equal(new Shape(2, 2, 2, 3, 2), net.Layers[1].Blobs[0].Shape);
        // D: (2 − 1)·2 + 2 = 4; H: (3 − 1)·2 − 2 + 3 = 5; W: (2 − 1)·2 + 2 = 4.
        Assert.Equal(new Shape(1, 4, 4, 5, 4), net.BlobShapes["up"]);
        var y = Run(net, Phase.Test, ("data", Tensor.Ones(1, 2, 2, 3, 2))).Blobs["up"].ToArray();
        // Kernel of ones over a bottom of ones: each top element counts the bottom positions whose kernel covers it; depth and width
        // (kernel = stride = 2) are covered exactly once, height by 1 or 2 windows: rows 0..4 of the padded top get 1, 2, 1, 2, 1.
        for (int i = 0; i < y.Length; i++) Assert.Equal(i / 4 % 5 % 2 == 1 ? 2f : 1f, y[i]);
    }

    [Fact]
    public void BadDefinitionsAreRefusedNamingTheLayer()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 3, 4, 4])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" convolution_param { num_output: 4 group: 2 kernel_size: 2 } }
            """));
        Assert.Contains("Layer 'up' (type Deconvolution)", e.Message);
        Assert.Contains("group 2", e.Message);
        e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 1, 1])) + """
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" convolution_param { num_output: 1 kernel_size: 3 pad: 2 } }
            """));
        Assert.Contains("padding is too large", e.Message);
    }
}
