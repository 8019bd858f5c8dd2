using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// ConvolutionDirectWeightGradient called directly (whatever Convolution.BackwardWeights would route): against
/// ConvolutionReference at both SIMD widths, the same bits on 1, 2 and 3 threads and at both widths (split by tiles, or by
/// slabs of images from 24 images on), and the routing giving the same bits as the direct call where it picks this path.
/// </summary>
[Collection("KernelSettings")]
public unsafe class ConvolutionDirectWeightGradientTests
{
    private static readonly int[] DirectWidths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry S(int n, int c, int h, int w, int k, int kernel, int stride, int pad, int dilation = 1) =>
        new(n, c, h, w, k, kernel, kernel, stride, stride, pad, pad, dilation, dilation, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stride-2 16->32, 32x32 (one image a pass)", S(3, 16, 32, 32, 32, 3, 2, 1) },
        { "ResNet-20 stride-2 32->64, 16x16 (two images a pass, odd batch: a pass of one)", S(5, 32, 16, 16, 64, 3, 2, 1) },
        { "4x4 output, 8 images a pass, batch 11 (last pass of 3)", S(11, 8, 8, 8, 16, 3, 2, 1) },
        { "odd image 15x13, stride 2, pad 1: the last column and row read the border", new Conv2dGeometry(3, 8, 15, 13, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1) },
        { "stride 2, pad 2 (windows past both borders), 48 channels (16-channel tiles)", S(2, 8, 9, 9, 48, 3, 2, 2) },
        { "stride 2, 5x5, depth 200 (last tile part-filled)", S(2, 8, 11, 11, 16, 5, 2, 2) },
        { "stride 1, dilation 2, 80 images in chunks", S(80, 8, 12, 12, 16, 3, 1, 2, 2) },
        { "VGG-like stride 1, 16->32, batch 1", S(1, 16, 10, 10, 32, 3, 1, 1) },
        { "cifar10_quick conv1-like, depth 75: 25 images in slabs of 12 and 13", S(25, 3, 12, 12, 32, 5, 1, 2) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesTheReferenceWithTheSameBitsForAnyThreadsAndWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 3), dy = KernelTestUtil.Random((int)g.OutputLength, 4);
        float[] expected = new float[g.WeightLength];
        ConvolutionReference.BackwardWeights(g, x, dy, expected, new float[g.OutChannels]);
        int pixels = g.Batch * g.OutHeight * g.OutWidth;
        float[]? first = null;
        foreach (int width in DirectWidths)
        {
            float[] one = Direct(g, x, dy, width, 1);
            KernelTestUtil.AssertClose(expected, one, 1e-6 * (pixels + 1), 1e-5, $"{name}, width {width}");
            KernelTestUtil.AssertBitIdentical(one, Direct(g, x, dy, width, 2), $"{name}, width {width}, 1 and 2 threads");
            KernelTestUtil.AssertBitIdentical(one, Direct(g, x, dy, width, 3), $"{name}, width {width}, 1 and 3 threads");
            if (first is null) first = one;
            else KernelTestUtil.AssertBitIdentical(first, one, $"{name}, AVX-512 and AVX2");
        }
    }

    [Fact]
    public void SlabsDependOnTheBatchAlone()
    {
        Assert.Equal(1, ConvolutionDirectWeightGradient.Slabs(S(11, 8, 8, 8, 16, 3, 2, 1)));
        Assert.Equal(2, ConvolutionDirectWeightGradient.Slabs(S(25, 3, 12, 12, 32, 5, 1, 2)));
        Assert.Equal(8, ConvolutionDirectWeightGradient.Slabs(S(100, 3, 32, 32, 32, 5, 1, 2)));
        Assert.Equal(8, ConvolutionDirectWeightGradient.Slabs(S(128, 16, 32, 32, 32, 3, 2, 1)));
    }

    [Fact]
    public void RoutingGivesTheBitsOfTheDirectCallForResNetStrideTwoLayers()
    {
        foreach (var g in new[] { S(4, 16, 32, 32, 32, 3, 2, 1), S(4, 32, 16, 16, 64, 3, 2, 1) })
        {
            float[] x = KernelTestUtil.Random((int)g.InputLength, 5), dy = KernelTestUtil.Random((int)g.OutputLength, 6);
            foreach (int width in DirectWidths)
            {
                float[] routed = new float[g.WeightLength];
                KernelTestUtil.With(width, 2, () =>
                {
                    Assert.True(ConvolutionDirectWeightGradient.Applies(g), $"{g}: the direct weight gradient should run");
                    Convolution.BackwardWeights(g, x, dy, routed, []);
                });
                KernelTestUtil.AssertBitIdentical(Direct(g, x, dy, width, 2), routed, $"{g}, width {width}: routed against direct");
            }
        }
    }

    private static float[] Direct(Conv2dGeometry g, float[] x, float[] dy, int width, int threads)
    {
        float[] dw = new float[g.WeightLength];
        Array.Fill(dw, float.NaN);   // every element must be written
        KernelTestUtil.With(width, threads, () =>
        {
            fixed (float* px = x, pdy = dy, pdw = dw) ConvolutionDirectWeightGradient.Compute(g, px, pdy, pdw);
        });
        return dw;
    }
}
