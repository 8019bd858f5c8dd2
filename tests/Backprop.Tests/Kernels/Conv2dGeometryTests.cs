using Backprop.Caffe;
using Backprop.Kernels;
using Backprop.Tests.Caffe.Net;

namespace Backprop.Tests.Kernels;

/// <summary>Conv2dGeometry owns the output-size rule and its checks; the functional API and Caffe's layer report its findings.</summary>
public class Conv2dGeometryTests
{
    [Theory]
    [InlineData(28, 5, 1, 0, 1, 24)]
    [InlineData(27, 3, 2, 1, 2, 13)]           // (27 + 2 - 4 - 1)/2 + 1
    [InlineData(32, 3, 2, 1, 1, 16)]           // ResNet downsampling: (32 + 2 - 2 - 1)/2 + 1 = 15 + 1
    [InlineData(5, 7, 5, 0, 1, -1)]            // kernel larger than the input: no output, even with a stride that would round up
    [InlineData(5, 3, 4, 0, 3, -1)]            // dilated kernel 7 > 5
    [InlineData(1, 1, 1, int.MaxValue, 1, 4294967295L)]   // 1 + 2*(2^31-1): no 32-bit overflow
    public void OutputSizeByHand(int input, int kernel, int stride, int pad, int dilation, long expected) =>
        Assert.Equal(expected, Conv2dGeometry.OutputSize(input, kernel, stride, pad, dilation));

    [Fact]
    public void ProblemIsNullForAUsableGeometry()
    {
        var g = new Conv2dGeometry(2, 4, 5, 5, 6, 5, 5, 1, 1, 0, 0, 1, 1, 2);
        Assert.Null(g.Problem());
        Assert.Equal((1, 1), (g.OutHeight, g.OutWidth));
    }

    [Fact]
    public void AnOutputTooLargeForOneTensorIsRejected()
    {
        // Padding 2^30 makes each output side about 2^31: more elements than a tensor holds.
        var g = new Conv2dGeometry(1, 1, 4, 4, 1, 1, 1, 1, 1, 1 << 30, 1 << 30, 1, 1, 1);
        Assert.Contains("more than", g.Problem());
        Assert.Throws<ArgumentException>(() => g.Validate());
    }

    [Fact]
    public void AWeightTooLargeForOneTensorIsRejected()
    {
        // A 50000x50000 kernel over a padded 1x1 input: a 2x2 output, but 2.5e9 weights (as a hostile prototxt could ask).
        var g = new Conv2dGeometry(1, 1, 1, 1, 1, 50000, 50000, 1, 1, 25000, 25000, 1, 1, 1);
        Assert.Equal((2, 2), (g.OutHeight, g.OutWidth));
        Assert.Contains("weight", g.Problem());
    }

    [Fact]
    public void FunctionalConv2dReportsTheGeometryProblemWithTheShapes()
    {
        var x = Tensor.Zeros(1, 3, 5, 5);
        var e = Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), dilation: 3, stride: 4));
        Assert.Contains("less than 1", e.Message);
        Assert.Contains("(1, 3, 5, 5)", e.Message);
        var groups = Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 1, 3, 3), groups: 0));
        Assert.Contains("groups must be positive", groups.Message);
        var stride = Assert.Throws<ArgumentException>(() => Backprop.Functional.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), stride: 0));
        Assert.Contains("stride must be positive", stride.Message);
    }

    [Fact]
    public void CaffeConvolutionNamesTheLayerAndTheGeometryProblem()
    {
        var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 3 dilation: 2 } }
            """));
        Assert.Contains("'conv'", e.Message);
        Assert.Contains("less than 1", e.Message);
        Assert.Contains("dilation 2x2", e.Message);
        var groups = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
            layer { name: "c2" type: "Convolution" bottom: "data" top: "c2" convolution_param { num_output: 4 kernel_size: 1 group: 2 } }
            """));
        Assert.Contains("'c2'", groups.Message);
        Assert.Contains("3 input channels are not divisible by 2 groups", groups.Message);
    }

    [Fact]
    public void CaffeConvolutionOutputShapeComesFromTheGeometry()
    {
        var net = NetBuilderTests.Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 32 dim: 31 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 } }
            """);
        Assert.Equal(new Shape(2, 4, 16, 16), net.BlobShapes["conv"]);
    }
}
