using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The batch-lane weight gradient (16 images per vector; stride 1, no padding, 5-wide kernels, AVX-512) against the reference loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionBatchLaneWeightGradientTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh) => new(n, c, h, w, k, kh, 5, 1, 1, 0, 0, 1, 1, 1);

    // LeNet's conv2 at its batch and at batches that leave a part-filled group of 16 (and a part-filled 8 within it);
    // K not a multiple of the 5-row tile; kernels 3 and 1 high; planes not a multiple of 8 pixels (the scalar transposes).
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "LeNet conv2", G(64, 20, 12, 12, 50, 5) },
        { "LeNet conv2, batch 20", G(20, 20, 12, 12, 50, 5) },
        { "batch 8, K 7", G(8, 3, 12, 12, 7, 5) },
        { "batch 13, 3x5, odd plane", G(13, 4, 9, 11, 6, 3) },
        { "batch 33, 1x5, C 1", G(33, 1, 7, 13, 12, 1) },
        // First layers (Shallow: run before the row dots, threads split the output channels): LeNet's conv1, and K not a
        // multiple of 5 with a part-filled group on a plane past the small-plane limit.
        { "LeNet conv1", G(64, 1, 28, 28, 20, 5) },
        { "batch 21, C 1, K 7, 20x19", G(21, 1, 20, 19, 7, 5) },
    };

    [Fact]
    public void AppliesOnlyWhereItRuns() =>
        KernelTestUtil.With(512, 1, () =>
        {
            // The path needs AVX-512: a cap of 512 on an AVX2 CPU (CI's second pass) does not add it.
            if (SimdWidth.Hardware < 512) { Assert.False(ConvolutionBatchLaneWeightGradient.Applies(G(64, 20, 12, 12, 50, 5))); return; }
            Assert.True(ConvolutionBatchLaneWeightGradient.Applies(G(64, 20, 12, 12, 50, 5)));
            Assert.False(ConvolutionBatchLaneWeightGradient.Applies(G(4, 20, 12, 12, 50, 5)));                                // batch below 8
            Assert.False(ConvolutionBatchLaneWeightGradient.Applies(new(64, 20, 12, 12, 50, 5, 5, 1, 1, 1, 1, 1, 1, 1)));    // padded
            Assert.True(ConvolutionBatchLaneWeightGradient.Applies(G(64, 1, 28, 28, 20, 5)));                                 // shallow: large plane allowed
            Assert.True(ConvolutionBatchLaneWeightGradient.Shallow(G(64, 1, 28, 28, 20, 5)));
            Assert.False(ConvolutionBatchLaneWeightGradient.Shallow(G(64, 20, 12, 12, 50, 5)));                               // deep
            Assert.False(ConvolutionBatchLaneWeightGradient.Applies(G(64, 2, 28, 28, 20, 5)));                                // plane too large (depth 50)
            Assert.False(ConvolutionBatchLaneWeightGradient.Applies(G(64, 1, 36, 36, 20, 5)));                                // plane past 32x32
            Assert.False(ConvolutionBatchLaneWeightGradient.Applies(new(64, 20, 12, 12, 50, 3, 3, 1, 1, 0, 0, 1, 1, 1)));    // 3 wide
        });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 21), dy = KernelTestUtil.Random((int)g.OutputLength, 22);
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
                    applies = ConvolutionBatchLaneWeightGradient.Applies(g);
                    Convolution.BackwardWeights(g, x, dy, actual, actualBias);
                });
                Assert.Equal(width == 512 && SimdWidth.Hardware >= 512, applies);
                string what = $"{name} width={width} threads={threads}";
                KernelTestUtil.AssertClose(expected, actual, 1e-6 * (pixels + 1), 1e-5, $"dWeight {what}");
                KernelTestUtil.AssertClose(expectedBias, actualBias, 1e-6 * (pixels + 1), 1e-5, $"dBias {what}");
                if (applies)
                {
                    float[] direct = new float[g.WeightLength];
                    KernelTestUtil.With(width, threads, () => Direct(g, x, dy, direct));
                    KernelTestUtil.AssertBitIdentical(direct, actual, $"dWeight {what}: Convolution.BackwardWeights vs the batch-lane path called directly");
                }
                if (first is null) first = actual;
                else KernelTestUtil.AssertBitIdentical(first, actual, $"dWeight {what} vs 1 thread");
            }
        }
    }

    private static unsafe void Direct(Conv2dGeometry g, float[] x, float[] dy, float[] dWeight)
    {
        fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionBatchLaneWeightGradient.Compute(g, px, pdy, pdw);
    }
}
