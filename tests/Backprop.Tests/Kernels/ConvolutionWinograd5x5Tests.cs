using Backprop.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.Kernels.ConvolutionWinogradTests;

namespace Backprop.Tests.Kernels;

/// <summary>
/// Winograd F(4x4, 5x5) against the plain loops (<see cref="ConvolutionReference"/>), with AVX-512 and AVX2, on 1, 2 and
/// 3 threads, with <see cref="ConvolutionWinogradTests"/>'s per-output tolerance (Slack * 2^-24 * sum over the window of
/// |w| |x|). On cifar10_quick's shapes <see cref="ErrorOnRealisticData"/> measured a worst ratio of 33-40 (F(2x2, 5x5),
/// which ran before: 21-22; F(4x4, 3x3): 42-64; the direct sum 1-2), a worst error of 4-5e-6 of the largest |y|
/// (F(4x4, 3x3): 2.5e-6 to 9e-6).
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinograd5x5Tests(ITestOutputHelper output)
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 5, 5, 1, 1, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "cifar10_quick conv2's shape, fewer images", G(2, 32, 16, 16, 32, 2) },
        { "cifar10_quick conv3's shape, fewer images", G(3, 32, 8, 8, 64, 2) },
        { "pad 0, odd 9x11 input (5x7 output)", G(2, 16, 9, 11, 16, 0) },
        { "pad 1, 7x6", G(2, 16, 7, 6, 32, 1) },
        { "pad 2, odd 13x5 (edge tiles cut)", G(1, 32, 13, 5, 16, 2) },
        { "pad 3 (output larger than input)", G(2, 16, 6, 7, 16, 3) },
        { "pad 4, 3x3 input", G(2, 16, 3, 3, 16, 4) },
        { "N = 1, C and K odd and small", G(1, 3, 9, 9, 5, 2) },
        { "C odd, K large (three 16-channel blocks plus 1)", G(2, 19, 6, 7, 49, 2) },
        { "C large, K = 1", G(2, 80, 6, 6, 1, 2) },
        { "5x5 input, pad 0 (one output pixel)", G(3, 17, 5, 5, 33, 0) },
        { "pads 0 and 3 on the two axes", new Conv2dGeometry(2, 16, 9, 12, 16, 5, 5, 1, 1, 0, 3, 1, 1, 1) },
        { "many tiles over many blocks (32x32 plane)", G(2, 16, 32, 32, 16, 2) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        foreach (int width in Widths)
            foreach (bool relu in new[] { false, true })
                foreach (float[] b in new[] { bias, [] })
                {
                    float[] expected = new float[g.OutputLength];
                    ConvolutionReference.Forward(g, x, w, b, expected);
                    if (relu) Activations.ReluForward(expected, expected);
                    float[] one = Run(g.OutputLength, width, 1, y => Forward(g, x, w, b, y, relu));
                    AssertWithin(expected, one, WindowScale(g, x, w, b), $"{name}, width {width}, relu {relu}, bias {b.Length > 0}");
                    foreach (int threads in new[] { 2, 3 })
                        KernelTestUtil.AssertBitIdentical(one, Run(g.OutputLength, width, threads, y => Forward(g, x, w, b, y, relu)),
                            $"{name}, width {width}, 1 and {threads} threads");
                }
    }

    public static readonly TheoryData<string, Conv2dGeometry> BackwardGeometries = new()
    {
        { "cifar10_quick conv3's shape, pad 2", G(2, 32, 8, 8, 64, 2) },
        { "pad 0, 9x11", G(2, 16, 9, 11, 17, 0) },
        { "pad 1, 7x7", G(2, 5, 7, 7, 16, 1) },
        { "pad 3, 6x5", G(1, 16, 6, 5, 32, 3) },
        { "pad 4, 4x6", G(2, 16, 4, 6, 16, 4) },
        { "N = 1, pad 2, 13x7", G(1, 16, 13, 7, 48, 2) },
    };

    [Theory]
    [MemberData(nameof(BackwardGeometries))]
    public void BackwardDataMatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5);
        float[] expected = new float[g.InputLength], scale = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, dy, w, expected);
        ConvolutionReference.BackwardData(g, Abs(dy), Abs(w), scale);   // the scale of dx: |dy| by |w|
        foreach (int width in Widths)
        {
            Assert.True(ConvolutionWinograd.SupportsBackwardData(g));
            float[] one = Run(g.InputLength, width, 1, dx => BackwardData(g, dy, w, dx));
            float[] two = Run(g.InputLength, width, 2, dx => BackwardData(g, dy, w, dx));
            AssertWithin(expected, one, scale, $"{name}, width {width}, backward-data");
            KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}, backward-data on 1 and 2 threads");
        }
    }

    /// <summary>
    /// The error on data like a trained net's (inputs after ReLU, He-initialised weights) on cifar10_quick's conv2 and
    /// conv3 shapes, printed beside the direct/GEMM path's, as a multiple of 2^-24 * (sum |w| |x|).
    /// </summary>
    [Fact]
    public void ErrorOnRealisticData()
    {
        foreach (var g in new[] { G(4, 32, 16, 16, 32, 2), G(8, 32, 8, 8, 64, 2), G(2, 64, 16, 16, 64, 2) })
            ConvolutionWinogradTests.CheckErrorOnRealisticData(g, "5x5 ", output);
    }

    [Fact]
    public void ConvolutionRunsItWhereItApplies()
    {
        var g = G(32, 32, 8, 8, 64, 2);   // cifar10_quick conv3 at batch 32: 128 tiles
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2), b = KernelTestUtil.Random(64, 3);
        foreach (int width in Widths)
        {
            bool applies = false, backward = false;
            KernelTestUtil.With(width, null, () => (applies, backward) = (ConvolutionWinograd.Applies(g), ConvolutionWinograd.AppliesToBackwardData(g)));
            Assert.True(applies && backward, $"Winograd should run at width {width}");
            float[] viaConvolution = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, b, y, relu: true));
            float[] winograd = Run(g.OutputLength, width, 2, y => Forward(g, x, w, b, y, true));
            KernelTestUtil.AssertBitIdentical(winograd, viaConvolution, $"Convolution.Forward vs Winograd, width {width}");
            float[] dy = KernelTestUtil.Random((int)g.OutputLength, 4);
            float[] dxConvolution = Run(g.InputLength, width, 2, dx => Convolution.BackwardData(g, dy, w, dx));
            float[] dxWinograd = Run(g.InputLength, width, 2, dx => BackwardData(g, dy, w, dx));
            KernelTestUtil.AssertBitIdentical(dxWinograd, dxConvolution, $"Convolution.BackwardData vs Winograd, width {width}");
        }
        KernelTestUtil.With(0, null, () => Assert.False(ConvolutionWinograd.Applies(g)));   // no scalar path
        Assert.False(ConvolutionWinograd.Applies(G(100, 3, 32, 32, 32, 2)));      // cifar10_quick conv1: 3 input channels
        Assert.False(ConvolutionWinograd.Applies(new Conv2dGeometry(2, 32, 8, 8, 32, 5, 3, 1, 1, 2, 1, 1, 1, 1)));   // 5x3
        Assert.False(ConvolutionWinograd.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 5, 5, 2, 2, 2, 2, 1, 1, 1)));   // stride 2
        Assert.False(ConvolutionWinograd.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 7, 7, 1, 1, 3, 3, 1, 1, 1)));   // 7x7
        Assert.False(ConvolutionWinograd.SupportsBackwardData(G(2, 16, 8, 8, 16, 5)));   // pad 5: the flipped pad would be -1
    }
}
