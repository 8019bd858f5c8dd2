using Backprop.Kernels;
using static Backprop.Tests.Kernels.ConvolutionWinogradTests;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The batch-lane Winograd F(2x2, 5x5) forward (16 images per vector; stride 1, no padding, 5x5, 8-pixel output rows,
/// AVX-512) against the reference loops, within <see cref="ConvolutionWinogradTests"/>'s per-output bound
/// (Slack * 2^-24 * sum over the window of |w| |x|), on 1, 2 and 3 threads (same bits), at every SIMD width (where it
/// does not apply, Convolution.Forward's other paths must still match).
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionBatchLaneForwardTests
{
    private static Conv2dGeometry G(int n, int c, int h, int k) => new(n, c, h, 12, k, 5, 5, 1, 1, 0, 0, 1, 1, 1);

    // LeNet's conv2 at its batch and at batches with a part-filled group of 16 (and of 8); K not a multiple of 5; C 1;
    // two output rows only; 28 output rows.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "LeNet conv2", G(64, 20, 12, 50) },
        { "LeNet conv2, batch 20", G(20, 20, 12, 50) },
        { "batch 8, K 7", G(8, 3, 12, 7) },
        { "batch 13, K 1, 2 output rows", G(13, 4, 6, 1) },
        { "batch 33, C 1, 28 output rows", G(33, 1, 32, 6) },
    };

    [Fact]
    public void AppliesOnlyWhereItRuns() =>
        KernelTestUtil.With(512, 1, () =>
        {
            if (SimdWidth.Hardware < 512) { Assert.False(ConvolutionBatchLaneForward.Applies(G(64, 20, 12, 50))); return; }
            Assert.True(ConvolutionBatchLaneForward.Applies(G(64, 20, 12, 50)));
            Assert.False(ConvolutionBatchLaneForward.Applies(G(4, 20, 12, 50)));                                  // batch below 8
            Assert.False(ConvolutionBatchLaneForward.Applies(G(64, 20, 11, 50)));                                 // 7 output rows
            Assert.False(ConvolutionBatchLaneForward.Applies(new(64, 20, 12, 12, 50, 5, 5, 1, 1, 2, 2, 1, 1, 1)));   // padded
            Assert.False(ConvolutionBatchLaneForward.Applies(new(64, 20, 14, 14, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1)));   // 10-pixel rows
            Assert.False(ConvolutionBatchLaneForward.Applies(new(64, 20, 12, 12, 50, 3, 3, 1, 1, 0, 0, 1, 1, 1)));   // 3x3
        });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 41), w = KernelTestUtil.Random((int)g.WeightLength, 42);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 43);
        foreach (bool relu in new[] { false, true })
            foreach (float[] b in new[] { bias, [] })
            {
                float[] expected = new float[g.OutputLength];
                ConvolutionReference.Forward(g, x, w, b, expected);
                if (relu) Activations.ReluForward(expected, expected);
                float[] scale = WindowScale(g, x, w, b);
                foreach (int width in KernelTestUtil.Widths)
                {
                    float[]? first = null;
                    foreach (int threads in new[] { 1, 2, 3 })
                    {
                        bool applies = false;
                        float[] actual = Run(g.OutputLength, width, threads, y =>
                        {
                            applies = ConvolutionBatchLaneForward.Applies(g);
                            Convolution.Forward(g, x, w, b, y, relu);
                        });
                        Assert.Equal(width == 512, applies);
                        string what = $"{name} width={width} threads={threads} relu={relu} bias={b.Length > 0}";
                        AssertWithin(expected, actual, scale, what);
                        if (applies)
                        {
                            float[] direct = Run(g.OutputLength, width, threads, y => Direct(g, x, w, b, y, relu));
                            KernelTestUtil.AssertBitIdentical(direct, actual, $"{what}: Convolution.Forward vs the batch-lane path called directly");
                        }
                        if (first is null) first = actual;
                        else KernelTestUtil.AssertBitIdentical(first, actual, $"{what} vs 1 thread");
                    }
                }
            }
    }

    private static unsafe void Direct(Conv2dGeometry g, float[] x, float[] w, float[] b, float[] y, bool relu)
    {
        fixed (float* px = x, pw = w, pb = b, py = y) ConvolutionBatchLaneForward.Forward(g, px, pw, b.Length != 0 ? pb : null, py, relu);
    }
}
