using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The batch-lane backward-data (16 images per vector; stride 1, no padding, KW 5, 8-pixel output rows, AVX-512) against the reference loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionBatchLaneBackwardDataTests
{
    private static Conv2dGeometry G(int n, int c, int h, int k, int kh) => new(n, c, h, 12, k, kh, 5, 1, 1, 0, 0, 1, 1, 1);

    // LeNet's conv2 at its batch and at batches with a part-filled group of 16 (and of 8); kernels 3 and 1 high; K 1;
    // planes of 9 rows (108 pixels, not a multiple of 8: the scalar transposes).
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "LeNet conv2", G(64, 20, 12, 50, 5) },
        { "LeNet conv2, batch 20", G(20, 20, 12, 50, 5) },
        { "batch 8, 3x5, 9 rows", G(8, 3, 9, 7, 3) },
        { "batch 13, 1x5, K 1", G(13, 4, 5, 1, 1) },
        { "batch 33, C 1", G(33, 1, 12, 6, 5) },
    };

    [Fact]
    public void AppliesOnlyWhereItRuns() =>
        KernelTestUtil.With(512, 1, () =>
        {
            // The path needs AVX-512: a cap of 512 on an AVX2 CPU (CI's second pass) does not add it.
            if (SimdWidth.Hardware < 512) { Assert.False(ConvolutionBatchLaneBackwardData.Applies(G(64, 20, 12, 50, 5))); return; }
            Assert.True(ConvolutionBatchLaneBackwardData.Applies(G(64, 20, 12, 50, 5)));
            Assert.False(ConvolutionBatchLaneBackwardData.Applies(G(4, 20, 12, 50, 5)));                                  // batch below 8
            Assert.False(ConvolutionBatchLaneBackwardData.Applies(new(64, 20, 12, 12, 50, 5, 5, 1, 1, 2, 2, 1, 1, 1)));   // padded
            Assert.False(ConvolutionBatchLaneBackwardData.Applies(new(64, 20, 14, 14, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1)));   // 10-pixel rows
        });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 31), w = KernelTestUtil.Random((int)g.WeightLength, 32);
        float[] expected = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, dy, w, expected);
        int terms = g.OutChannels * g.KernelHeight * g.KernelWidth;
        foreach (int width in KernelTestUtil.Widths)
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                float[] actual = new float[g.InputLength];
                Array.Fill(actual, float.NaN);
                bool applies = false;
                KernelTestUtil.With(width, threads, () =>
                {
                    applies = ConvolutionBatchLaneBackwardData.Applies(g);
                    Convolution.BackwardData(g, dy, w, actual);
                });
                Assert.Equal(width == 512, applies);
                string what = $"{name} width={width} threads={threads}";
                KernelTestUtil.AssertClose(expected, actual, 1e-6 * (terms + 1), 1e-5, $"dx {what}");
                if (applies)
                {
                    float[] direct = new float[g.InputLength];
                    KernelTestUtil.With(width, threads, () => Direct(g, dy, w, direct));
                    KernelTestUtil.AssertBitIdentical(direct, actual, $"dx {what}: Convolution.BackwardData vs the batch-lane path called directly");
                }
                if (first is null) first = actual;
                else KernelTestUtil.AssertBitIdentical(first, actual, $"dx {what} vs 1 thread");
            }
        }
    }

    private static unsafe void Direct(Conv2dGeometry g, float[] dy, float[] w, float[] dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx) ConvolutionBatchLaneBackwardData.Compute(g, pdy, pw, pdx);
    }
}
