using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// PoolingAvgBackward (through Pooling.AvgBackward): the bits of the separable float definition written out below as
/// plain loops, at every SIMD width and thread count, and close to PoolingReference's double sums.
/// </summary>
[Collection("KernelSettings")]
public class PoolingAvgBackwardTests
{
    // (batch, channels, H, W, kernel, stride, pad, ceil): cifar10_quick's pool2 and pool3 shapes (3x3 stride 2, ceil, the
    // last window clipped) at batch 1 and 3, and kernels 2-3 at strides 1-3 with pads and odd sizes.
    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes() => new()
    {
        { 1, 2, 16, 16, 3, 2, 0, true },
        { 3, 5, 8, 8, 3, 2, 0, true },
        { 2, 3, 15, 33, 3, 2, 1, true },
        { 2, 3, 9, 20, 3, 1, 1, false },
        { 1, 4, 11, 17, 3, 3, 0, true },
        { 2, 2, 10, 40, 2, 1, 0, false },
        { 2, 2, 7, 9, 2, 3, 1, true },
        { 1, 3, 13, 6, 3, 2, 2, true },
        { 2, 2, 8, 8, 2, 2, 1, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BitsAreTheSeparableDefinitionsAtEveryWidthAndThreadCount(int n, int c, int h, int w, int k, int s, int pad, bool ceil)
    {
        foreach (bool include in new[] { true, false })
        {
            var g = Pool2dGeometry.Create(n, c, h, w, k, k, s, s, Math.Min(pad, k - 1), Math.Min(pad, k - 1), ceil);
            float[] dy = KernelTestUtil.Random((int)g.OutputLength, h * w + k * s);
            float[] expected = Separable(g, dy, include), dxRef = new float[g.InputLength];
            PoolingReference.AvgBackward(g, dy, dxRef, include);
            KernelTestUtil.AssertClose(dxRef, expected, 1e-6, 1e-5, "the separable definition against the reference");
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2, 3 })
                    KernelTestUtil.With(width, threads, () =>
                    {
                        float[] dx = new float[g.InputLength];
                        Array.Fill(dx, float.NaN);   // every input must be written
                        Pooling.AvgBackward(g, dy, dx, include);
                        KernelTestUtil.AssertBitIdentical(expected, dx, $"{g} countIncludePad {include} width {width} threads {threads}");
                    });
        }
    }

    [Fact]
    public void NegativeZeroGradientsGivePositiveZeros()
    {
        // The sums start at +0, as a cleared dx: -0 shares must come out +0 (the zero padding of the lines may not flip that).
        var g = Pool2dGeometry.Create(1, 1, 16, 16, 3, 3, 2, 2, 1, 1, true);
        float[] dy = new float[g.OutputLength];
        Array.Fill(dy, -0f);
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 1, () =>
            {
                float[] dx = new float[g.InputLength];
                Array.Fill(dx, float.NaN);
                Pooling.AvgBackward(g, dy, dx, true);
                Assert.All(dx, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
            });
    }

    // Clear dx; per output row, a line of the input's width cleared, each share (dy / divisor in float) added to its
    // window's real columns in column order, then the line added to each real input row of the window.
    private static float[] Separable(in Pool2dGeometry g, float[] dy, bool countIncludePad)
    {
        float[] dx = new float[g.InputLength], line = new float[g.InWidth];
        int plane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < g.OutHeight; i++)
            {
                var (h0, h1, hSpan) = Window(g.StrideHeight, g.PadHeight, g.KernelHeight, g.InHeight, i);
                Array.Clear(line);
                for (int j = 0; j < g.OutWidth; j++)
                {
                    var (w0, w1, wSpan) = Window(g.StrideWidth, g.PadWidth, g.KernelWidth, g.InWidth, j);
                    float share = dy[p * outPlane + i * g.OutWidth + j] / (countIncludePad ? hSpan * wSpan : (h1 - h0) * (w1 - w0));
                    for (int col = w0; col < w1; col++) line[col] += share;
                }
                for (int r = h0; r < h1; r++)
                    for (int col = 0; col < g.InWidth; col++) dx[p * plane + r * g.InWidth + col] += line[col];
            }
        return dx;
    }

    private static (int Lo, int Hi, int Span) Window(int stride, int pad, int kernel, int size, int o)
    {
        int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
        return (Math.Max(start, 0), Math.Min(end, size), end - start);
    }
}
