using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The fast RoiAlign and RoiPool kernels against their plain-loop references, bit for bit, on any thread count.</summary>
[Collection("KernelSettings")]
public class RoiKernelTests
{
    /// <summary>
    /// Random RoI rows [image, x1, y1, x2, y2] in image coordinates (feature coordinates / scale): ordinary boxes,
    /// boxes over every border, wholly outside, empty, tiny and reversed ones.
    /// </summary>
    private static float[] RandomRois(int count, int images, int height, int width, float scale, int seed)
    {
        var rng = new Random(seed);
        var rois = new float[count * 5];
        float U(float lo, float hi) => lo + (float)rng.NextDouble() * (hi - lo);
        for (int k = 0; k < count; k++)
        {
            float x1 = U(-4, width + 2), y1 = U(-4, height + 2), x2, y2;
            switch (k % 6)
            {
                case 0: x2 = x1; y2 = y1; break;                                   // empty
                case 1: x2 = x1 + U(0, 0.5f); y2 = y1 + U(0, 0.5f); break;         // tiny
                case 2: x2 = x1 - U(0, 3); y2 = y1 - U(0, 3); break;               // reversed
                case 3: x1 = U(width + 1.5f, width + 4); x2 = x1 + 3; y2 = y1 + 2; break;   // wholly outside
                default: x2 = x1 + U(0, width + 4); y2 = y1 + U(0, height + 4); break;
            }
            rois[k * 5] = rng.Next(images);
            rois[k * 5 + 1] = x1 / scale;
            rois[k * 5 + 2] = y1 / scale;
            rois[k * 5 + 3] = x2 / scale;
            rois[k * 5 + 4] = y2 / scale;
        }
        return rois;
    }

    public static IEnumerable<object[]> Settings()
    {
        foreach (int threads in new[] { 1, 3, 8 })
        foreach (float scale in new[] { 1f, 0.5f, 0.25f })
            yield return [threads, scale];
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void RoiAlignFastMatchesReference(int threads, float scale)
    {
        var g = new RoiGeometry(3, 4, 9, 11, 90, 3, 4, scale);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 2);
        float[] rois = RandomRois(g.RoiCount, g.Batch, g.Height, g.Width, scale, 3);
        foreach (bool aligned in new[] { false, true })
        foreach (int ratio in new[] { -1, 0, 1, 2, 3 })
        {
            string what = $"RoiAlign threads {threads} scale {scale} aligned {aligned} ratio {ratio}";
            var expected = new float[g.OutputLength];
            var actual = new float[g.OutputLength];
            var dxExpected = new float[g.InputLength];
            var dxActual = Enumerable.Repeat(float.NaN, (int)g.InputLength).ToArray();   // the kernel must overwrite
            RoiAlignReference.Forward(g, ratio, aligned, x, rois, expected);
            RoiAlignReference.Backward(g, ratio, aligned, dy, rois, dxExpected);
            KernelTestUtil.With(null, threads, () =>
            {
                RoiAlign.Forward(g, ratio, aligned, x, rois, actual);
                RoiAlign.Backward(g, ratio, aligned, dy, rois, dxActual);
            });
            KernelTestUtil.AssertBitIdentical(expected, actual, what + " forward");
            KernelTestUtil.AssertBitIdentical(dxExpected, dxActual, what + " backward");
            Assert.Contains(expected, v => v != 0);
        }
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void RoiPoolFastMatchesReference(int threads, float scale)
    {
        var g = new RoiGeometry(3, 4, 9, 11, 90, 3, 2, scale);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 4);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 5);
        float[] rois = RandomRois(g.RoiCount, g.Batch, g.Height, g.Width, scale, 6);
        var expected = new float[g.OutputLength];
        var actual = new float[g.OutputLength];
        var argExpected = new int[g.OutputLength];
        var argActual = new int[g.OutputLength];
        var dxExpected = new float[g.InputLength];
        var dxActual = Enumerable.Repeat(float.NaN, (int)g.InputLength).ToArray();
        RoiPoolReference.Forward(g, x, rois, expected, argExpected);
        RoiPoolReference.Backward(g, dy, rois, argExpected, dxExpected);
        KernelTestUtil.With(null, threads, () =>
        {
            RoiPool.Forward(g, x, rois, actual, argActual);
            RoiPool.Backward(g, dy, rois, argActual, dxActual);
        });
        string what = $"RoiPool threads {threads} scale {scale}";
        KernelTestUtil.AssertBitIdentical(expected, actual, what + " forward");
        Assert.Equal(argExpected, argActual);
        KernelTestUtil.AssertBitIdentical(dxExpected, dxActual, what + " backward");
        Assert.Contains(argExpected, a => a < 0);    // some bins were empty
        Assert.Contains(argExpected, a => a >= 0);
    }

    [Fact]
    public void NoRoisGiveEmptyOutputAndZeroGradient()
    {
        var g = new RoiGeometry(2, 3, 4, 5, 0, 2, 2, 1f);
        var dx = Enumerable.Repeat(float.NaN, (int)g.InputLength).ToArray();
        RoiAlign.Forward(g, -1, false, new float[g.InputLength], [], []);
        RoiAlign.Backward(g, -1, false, [], [], dx);
        Assert.All(dx, v => Assert.Equal(0f, v));
        dx.AsSpan().Fill(float.NaN);
        RoiPool.Forward(g, new float[g.InputLength], [], [], []);
        RoiPool.Backward(g, [], [], [], dx);
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BufferSizesAreChecked()
    {
        var g = new RoiGeometry(1, 1, 4, 4, 1, 2, 2, 1f);
        var ex = Assert.Throws<ArgumentException>(() => RoiAlign.Forward(g, 2, false, new float[16], new float[4], new float[4]));
        Assert.Contains("rois", ex.Message);
        Assert.Throws<ArgumentException>(() => RoiPool.Forward(g, new float[16], new float[5], new float[4], new int[3]));
        Assert.Throws<ArgumentException>(() => RoiAlignReference.Forward(g with { PooledHeight = 0 }, 2, false, new float[16], new float[5], new float[0]));
    }

    [Fact]
    public void KernelsRefuseRowsTheyWouldIndexOutsideTheInput()
    {
        // The fast kernels write through pointers: an image index or argmax out of range must throw, not corrupt memory.
        var g = new RoiGeometry(2, 1, 4, 4, 1, 2, 2, 1f);
        float[] badImage = [2f, 0, 0, 2, 2];
        Assert.Contains("image index 2", Assert.Throws<ArgumentException>(() => RoiAlign.Forward(g, 2, false, new float[32], badImage, new float[4])).Message);
        Assert.Contains("image index 2", Assert.Throws<ArgumentException>(() => RoiAlign.Backward(g, 2, false, new float[4], badImage, new float[32])).Message);
        Assert.Contains("image index 2", Assert.Throws<ArgumentException>(() => RoiPool.Forward(g, new float[32], badImage, new float[4], new int[4])).Message);
        Assert.Contains("column 1", Assert.Throws<ArgumentException>(() => RoiPoolReference.Forward(g, new float[32], [0f, float.NaN, 0, 2, 2], new float[4], new int[4])).Message);
        Assert.Contains("argmax value 16", Assert.Throws<ArgumentException>(() => RoiPool.Backward(g, new float[4], [0f, 0, 0, 2, 2], [0, 1, 16, -1], new float[32])).Message);
    }
}
