using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

public class GeometryTests
{
    [Theory]
    [InlineData(24, 2, 2, 0, true, 12)]   // Caffe LeNet pool1
    [InlineData(24, 2, 2, 0, false, 12)]
    [InlineData(8, 2, 2, 0, true, 4)]     // Caffe LeNet pool2
    [InlineData(7, 3, 2, 0, true, 3)]     // (7-3)/2 = 2 exactly: both 3
    [InlineData(7, 3, 2, 0, false, 3)]
    [InlineData(6, 3, 2, 0, true, 3)]     // (6-3)/2 = 1.5: ceil 2+1, floor 1+1
    [InlineData(6, 3, 2, 0, false, 2)]
    [InlineData(5, 2, 2, 1, true, 3)]     // (5+2-2)/2 = 2.5: ceil gives 4, but window 3 would start at 6-1 = 5 = past the input -> 3
    [InlineData(5, 2, 2, 1, false, 3)]
    [InlineData(13, 3, 2, 1, true, 7)]    // (13+2-3)/2 = 6 exactly
    [InlineData(14, 3, 2, 1, true, 8)]    // (14+2-3)/2 = 6.5: ceil 8, last window starts at 14-1 = 13 < 14 -> keeps 8
    [InlineData(14, 3, 2, 1, false, 7)]
    [InlineData(112, 3, 2, 0, true, 56)]  // GoogLeNet/Caffe pool: (112-3)/2 = 54.5 -> 56
    [InlineData(1, 1, 1, 0, false, 1)]
    [InlineData(2, 3, 1, 0, false, 0)]    // kernel larger than input: no output (Validate rejects)
    public void PoolOutputSizeByHand(int input, int kernel, int stride, int pad, bool ceil, int expected) =>
        Assert.Equal(expected, Pool2dGeometry.OutputSize(input, kernel, stride, pad, ceil));

    [Fact]
    public void ConvOutputSizeByHand()
    {
        var g = new Conv2dGeometry(1, 3, 28, 27, 8, 5, 3, 1, 2, 0, 1, 1, 2, 1);
        Assert.Equal(24, g.OutHeight);   // (28 + 0 - 1*(5-1) - 1)/1 + 1 = 23 + 1
        Assert.Equal(13, g.OutWidth);    // (27 + 2*1 - 2*(3-1) - 1)/2 + 1 = 24/2 + 1
        var strided = new Conv2dGeometry(1, 3, 10, 10, 8, 3, 3, 3, 3, 1, 1, 1, 1, 1);
        Assert.Equal(4, strided.OutHeight); // (10 + 2 - 2 - 1)/3 + 1 = 9/3 + 1
    }

    [Theory]
    [InlineData(1, 6, 8, 8, 4, 3, 3, 1, 1, 0, 0, 1, 1, 4, "not divisible")]       // 6 channels, 4 groups
    [InlineData(1, 4, 8, 8, 6, 3, 3, 1, 1, 0, 0, 1, 1, 4, "not divisible")]       // 6 outputs, 4 groups
    [InlineData(1, 3, 4, 4, 2, 5, 5, 1, 1, 0, 0, 1, 1, 1, "less than 1")]         // kernel larger than input
    [InlineData(1, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 3, 1, 1, "less than 1")]         // dilated kernel 7 > 5
    [InlineData(1, 3, 5, 5, 2, 3, 3, 0, 1, 0, 0, 1, 1, 1, "stride")]
    [InlineData(1, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 0, 1, 1, "dilation")]
    [InlineData(1, 3, 5, 5, 2, 0, 3, 1, 1, 0, 0, 1, 1, 1, "kernel")]
    [InlineData(1, 3, 5, 5, 2, 3, 3, 1, 1, -1, 0, 1, 1, 1, "padding")]
    [InlineData(0, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, "positive")]
    [InlineData(1, 3, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 0, "groups")]
    public void ConvValidateRejects(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, string fragment)
    {
        var g = new Conv2dGeometry(n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups);
        var e = Assert.Throws<ArgumentException>(() => g.Validate());
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void ConvValidateAccepts() => new Conv2dGeometry(2, 4, 5, 5, 6, 5, 5, 1, 1, 0, 0, 1, 1, 2).Validate();

    [Theory]
    [InlineData(3, 3, 2, 2, 3, 0, "smaller than the kernel")]   // pad 3 = kernel 3 (Caffe allows up to 2)
    [InlineData(2, 2, 0, 2, 0, 0, "stride")]
    [InlineData(0, 2, 1, 1, 0, 0, "kernel")]
    [InlineData(3, 3, 1, 1, -1, 0, "negative")]
    public void PoolValidateRejects(int kh, int kw, int sh, int sw, int ph, int pw, string fragment)
    {
        var g = new Pool2dGeometry(1, 1, 8, 8, kh, kw, sh, sw, ph, pw, 4, 4);
        var e = Assert.Throws<ArgumentException>(() => g.Validate());
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void PoolValidateRejectsBadOutputSizes()
    {
        Assert.Contains("output size", Assert.Throws<ArgumentException>(() => new Pool2dGeometry(1, 1, 2, 2, 3, 3, 1, 1, 0, 0, 0, 0).Validate()).Message);
        // 5 inputs, kernel 2 stride 2 pad 1: a 4th window would start at 3*2-1 = 5, past the input.
        Assert.Contains("too large", Assert.Throws<ArgumentException>(() => new Pool2dGeometry(1, 1, 5, 5, 2, 2, 2, 2, 1, 1, 4, 4).Validate()).Message);
        new Pool2dGeometry(1, 1, 5, 5, 2, 2, 2, 2, 1, 1, 3, 3).Validate();
    }
}
