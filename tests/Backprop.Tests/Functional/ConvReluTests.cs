using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Tests.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>Conv2dRelu gives the bits of Relu(Conv2d) forward and backward on every convolution path, width and thread count.</summary>
[Collection("KernelSettings")]
public class ConvReluTests(ITestOutputHelper output)
{
    // (N, C, H, W, K, kernel, stride, pad, dilation, groups): each forward path of Kernels/Convolution.cs's table.
    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Shapes => new()
    {
        { 2, 8, 5, 16, 16, 3, 1, 1, 1, 1 },    // direct (stride 1, OW 16), 80 pixels: a part-filled panel through the scratch tile
        { 2, 16, 16, 16, 32, 3, 1, 1, 1, 1 },  // direct, whole panels
        { 3, 5, 9, 11, 7, 3, 2, 1, 1, 1 },     // implicit GEMM (stride 2, odd sizes)
        { 1, 6, 7, 7, 10, 3, 1, 2, 2, 1 },     // dilated, one image
        { 2, 6, 6, 6, 9, 1, 1, 0, 1, 1 },      // pointwise: GEMM straight on x
        { 2, 6, 7, 5, 8, 3, 1, 1, 1, 2 },      // grouped: im2col + GEMM per group
        { 1, 4, 6, 6, 8, 3, 2, 1, 1, 4 },      // grouped, one image (threads inside the GEMM)
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Conv2dReluHasTheBitsOfReluAfterConv2d(int n, int c, int h, int w, int k, int kernel, int stride, int pad, int dilation, int groups)
    {
        foreach (int width in KernelTestUtil.Widths)
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(width, threads, () =>
                {
                    var g = new Generator(81);
                    var x = Leaf(g, n, c, h, w);
                    var weight = Leaf(g, k, c / groups, kernel, kernel);
                    var bias = Leaf(g, k);
                    var probe = Backprop.Functional.Conv2d(x, weight, bias, stride, pad, dilation, groups);
                    var upstream = Tensor.Randn(g, probe.Shape.ToArray());
                    var expected = Run(t => Backprop.Functional.Relu(Backprop.Functional.Conv2d(t[0], t[1], t[2], stride, pad, dilation, groups)),
                        [x, weight, bias], upstream);
                    var actual = Run(t => Backprop.Functional.Conv2dRelu(t[0], t[1], t[2], stride, pad, dilation, groups), [x, weight, bias], upstream);
                    Assert.Contains(0f, expected.Y);
                    Assert.Contains(expected.Y, v => v > 0);
                    string what = $"width {width} threads {threads}";
                    KernelTestUtil.AssertBitIdentical(expected.Y, actual.Y, what + " output");
                    for (int i = 0; i < 3; i++) KernelTestUtil.AssertBitIdentical(expected.Grads[i], actual.Grads[i], $"{what} gradient {i}");
                });
    }

    [Fact]
    public void Conv2dReluWithoutBiasOnTheIm2ColPathMatchesToo()
    {
        var g = new Generator(82);
        var x = Tensor.Randn(g, 2, 4, 8, 8);
        var weight = Tensor.Randn(g, 6, 4, 3, 3);
        Convolution.ImplicitGemmEnabled = false;
        try
        {
            float[] expected = Backprop.Functional.Relu(Backprop.Functional.Conv2d(x, weight, null, 1, 1)).ToArray();
            KernelTestUtil.AssertBitIdentical(expected, Backprop.Functional.Conv2dRelu(x, weight, null, 1, 1).ToArray(), "im2col, no bias");
        }
        finally { Convolution.ImplicitGemmEnabled = true; }
    }

    [Fact]
    public void Conv2dReluGradientCheck()
    {
        var g = new Generator(83);
        var x = Leaf(g, 2, 3, 5, 5);
        var weight = Leaf(g, 4, 3, 3, 3);
        var bias = Leaf(g, 4);
        GradientCheck.Check(xs => Backprop.Functional.Conv2dRelu(xs[0], xs[1], xs[2], 1, 1), [x, weight, bias], output, "conv + relu",
            ["input", "weight", "bias"]);
    }

    [Fact]
    public void SequentialRunsConv2dFollowedByReluAsOneOp()
    {
        var g = new Generator(84);
        var net = new Sequential(new Conv2d(2, 4, 3, padding: 1, generator: g), new Relu(), new Conv2d(4, 2, 1, generator: g));
        var x = Tensor.Randn(g, 3, 2, 5, 5);
        x.RequiresGrad = true;
        var y = net.Forward(x);
        Assert.Contains(Autograd.Autograd.Nodes(y), node => node.Name == "ConvolutionReluBackward");
        Assert.DoesNotContain(Autograd.Autograd.Nodes(y), node => node.Name == "ReluBackward");
        var composed = net[2].Forward(Backprop.Functional.Relu(net[0].Forward(x)));
        KernelTestUtil.AssertBitIdentical(composed.ToArray(), y.ToArray(), "fused Sequential");
    }

    private static (float[] Y, float[][] Grads) Run(Func<Tensor[], Tensor> f, Tensor[] leaves, Tensor upstream)
    {
        foreach (var t in leaves) t.Grad = null;
        var y = f(leaves);
        y.Backward(upstream);
        return (y.ToArray(), leaves.Select(t => t.Grad!.ToArray()).ToArray());
    }
}
