using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>Stride-2 backward-data as four phase convolutions, against the reference loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionPhaseBackwardDataTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int ph, int pw) =>
        new(n, c, h, w, k, kh, kw, 2, 2, ph, pw, 1, 1, 1);

    // Odd and even input sizes, pads 0..3 (some larger than the kernel's reach), even and odd kernels, 2x2, 2x1 and 1x1
    // (not this path), channel counts that leave part-filled tiles, depth past one GEMM block (Kc), tiny planes, a row woven by
    // 16- and 8-float vectors and then one by one.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet 16->32 3x3 pad 1", G(2, 16, 32, 32, 32, 3, 3, 1, 1) },
        { "odd input 3x3 pad 1", G(3, 5, 17, 15, 7, 3, 3, 1, 1) },
        { "odd input 3x3 pad 0", G(2, 3, 13, 11, 6, 3, 3, 0, 0) },
        { "asymmetric 5x4, pads 2 and 3", G(2, 11, 19, 14, 9, 5, 4, 2, 3) },
        { "2x2 pad 0 even", G(2, 4, 12, 10, 3, 2, 2, 0, 0) },
        { "1x1 stride 2 odd", G(3, 17, 9, 11, 13, 1, 1, 0, 0) },
        { "1x1 pad 1", G(2, 3, 7, 6, 4, 1, 1, 1, 1) },
        { "2x1 kernel", G(2, 3, 9, 8, 5, 2, 1, 0, 0) },
        { "pad beyond the kernel", G(2, 2, 5, 6, 3, 3, 3, 3, 2) },
        { "depth past one block", G(2, 9, 10, 10, 80, 3, 3, 1, 1) },
        { "one pixel", G(2, 3, 1, 1, 2, 3, 3, 1, 1) },
        { "batch 1", G(1, 4, 9, 9, 5, 3, 3, 1, 1) },
        { "odd width past the weave's vectors", G(2, 6, 10, 37, 5, 3, 3, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 3), w = KernelTestUtil.Random((int)g.WeightLength, 4);
        float[] expected = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, dy, w, expected);
        int taps = g.OutChannels * g.KernelHeight * g.KernelWidth;
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
                    applies = ConvolutionPhaseBackwardData.Applies(g);
                    Convolution.BackwardData(g, dy, w, actual);
                });
                Assert.Equal(width >= 256 && g.Batch > 1 && g.KernelHeight > 1 && g.KernelWidth > 1, applies);   // batch 1, 1x1 and 2x1 stay on the GEMM path
                string what = $"{name} width={width} threads={threads}";
                KernelTestUtil.AssertClose(expected, actual, 1e-6 * (taps + 1), 1e-5, $"dx {what}");
                if (applies)
                {
                    // Routed here, not merely close: the bits of a direct call (the GEMM path sums in another order).
                    float[] direct = new float[g.InputLength];
                    KernelTestUtil.With(width, threads, () => Direct(g, dy, w, direct));
                    KernelTestUtil.AssertBitIdentical(direct, actual, $"dx {what}: Convolution.BackwardData vs the phase path called directly");
                }
                if (first is null) first = actual;
                else KernelTestUtil.AssertBitIdentical(first, actual, $"dx {what} vs 1 thread");
            }
        }
    }

    private static unsafe void Direct(Conv2dGeometry g, float[] dy, float[] w, float[] dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx) ConvolutionPhaseBackwardData.BackwardData(g, pdy, pw, pdx);
    }
}
