using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The row-dot weight gradient (stride-w 1, rows a multiple of the lanes, depth below 64) against the reference loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionRowDotWeightGradientTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int sh, int ph, int pw, int dh = 1, int dw = 1) =>
        new(n, c, h, w, k, kh, kw, sh, 1, ph, pw, dh, dw, 1);

    // Depth below 64 (where the path runs), output rows of 16 or 32 (so both AVX-512 and AVX2 run it); K and depth that
    // leave part-filled tiles; odd pads; stride-h 2 with odd heights; dilation; batch 1; enough images for several chunks and slabs.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "stem 3->16", G(2, 3, 32, 32, 16, 3, 3, 1, 1, 1) },
        { "stem batch 1", G(1, 3, 32, 32, 16, 3, 3, 1, 1, 1) },
        { "batch 1, K 7, depth 3x3x5", G(1, 3, 13, 18, 7, 3, 5, 1, 0, 1) },
        { "odd pads, stride-h 2, odd height", G(4, 3, 17, 18, 9, 5, 3, 2, 2, 0) },
        { "dilation 2", G(2, 4, 11, 20, 5, 3, 3, 1, 1, 0, 2, 2) },
        { "1x1", G(5, 7, 6, 16, 3, 1, 1, 1, 0, 0) },
        { "several chunks", G(25, 6, 32, 32, 16, 3, 3, 1, 1, 1) },
        // From 24 images on the threads share out fixed slabs of images (8 here), each of two chunks.
        { "slabs of several chunks", G(96, 6, 32, 32, 16, 3, 3, 1, 1, 1) },
        { "slabs, 1x1 (ResNet's shortcut after its subsampling)", G(24, 16, 16, 16, 32, 1, 1, 1, 0, 0) },
        // Rows that are not a multiple of the lanes, planes that are: one copy per kernel column (AVX-512; AVX2 reads 8- and
        // 24-pixel rows in place where depth < 64).
        { "LeNet conv1 (24-pixel rows)", G(3, 1, 28, 28, 20, 5, 5, 1, 0, 0) },
        { "shifted copies, pads and dilation 2", G(2, 3, 14, 10, 5, 3, 3, 1, 1, 1, 2, 2) },
        { "shifted copies, depth 36, K 10, 6-pixel rows", G(2, 4, 8, 6, 10, 3, 3, 1, 1, 1) },
        { "shifted copies, several chunks", G(40, 2, 60, 60, 12, 5, 5, 1, 0, 0) },
    };

    [Fact]
    public void DeeperLayersKeepTheBroadcastKernel() =>
        KernelTestUtil.With(512, 1, () =>
        {
            Assert.False(ConvolutionRowDotWeightGradient.Applies(G(2, 16, 32, 32, 16, 3, 3, 1, 1, 1)));
            Assert.False(ConvolutionRowDotWeightGradient.Applies(G(2, 20, 12, 12, 50, 5, 5, 1, 0, 0)));   // LeNet's conv2, 8-pixel rows
        });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 11), dy = KernelTestUtil.Random((int)g.OutputLength, 12);
        float[] expected = new float[g.WeightLength], expectedBias = new float[g.OutChannels];
        ConvolutionReference.BackwardWeights(g, x, dy, expected, expectedBias);
        int pixels = g.Batch * g.OutHeight * g.OutWidth;
        foreach (int width in KernelTestUtil.Widths)
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                float[] actual = new float[g.WeightLength], actualBias = new float[g.OutChannels];
                Array.Fill(actual, float.NaN);
                bool applies = false;
                KernelTestUtil.With(width, threads, () =>
                {
                    applies = ConvolutionRowDotWeightGradient.Applies(g);
                    Convolution.BackwardWeights(g, x, dy, actual, actualBias);
                });
                Assert.Equal(width >= 256, applies);
                string what = $"{name} width={width} threads={threads}";
                KernelTestUtil.AssertClose(expected, actual, 1e-6 * (pixels + 1), 1e-5, $"dWeight {what}");
                if (applies)
                {
                    // Routed here, not merely close: the bits of a direct call (the other paths sum in another order).
                    float[] direct = new float[g.WeightLength];
                    KernelTestUtil.With(width, threads, () => Direct(g, x, dy, direct));
                    KernelTestUtil.AssertBitIdentical(direct, actual, $"dWeight {what}: Convolution.BackwardWeights vs the row-dot path called directly");
                }
                if (first is null) first = actual;
                else KernelTestUtil.AssertBitIdentical(first, actual, $"dWeight {what} vs 1 thread");
            }
        }
    }

    private static unsafe void Direct(Conv2dGeometry g, float[] x, float[] dy, float[] dWeight)
    {
        fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionRowDotWeightGradient.Compute(g, px, pdy, pdw);
    }
}
