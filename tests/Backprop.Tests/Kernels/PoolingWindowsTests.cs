using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The vectorised pooling of any window (PoolingWindows and the separable average backward) against the reference.</summary>
[Collection("KernelSettings")]
public class PoolingWindowsTests
{
    // Kernel 1..4, stride 1..3, pad 0..min(2, kernel/2), floor and ceil; widths around 4, 8 and 16 outputs.
    public static TheoryData<int, int, int, bool> Windows()
    {
        var data = new TheoryData<int, int, int, bool>();
        for (int k = 1; k <= 4; k++)
            for (int s = 1; s <= 3; s++)
                for (int pad = 0; pad <= Math.Min(2, k / 2); pad++)
                    foreach (bool ceil in new[] { false, true })
                        data.Add(k, s, pad, ceil);
        return data;
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void MaxIsExactAtEveryWidthAndThreadCount(int k, int s, int pad, bool ceil)
    {
        foreach (var (h, w) in new[] { (7, 5), (9, 13), (6, 37), (5, 70) })
        {
            // Asymmetric too: the kernel height one less (at least 1), the stride height one more (at most 3).
            int kh = Math.Max(1, k - (w % 2)), sh = Math.Min(3, s + (h % 2)), ph = Math.Min(pad, kh / 2);
            var g = Pool2dGeometry.Create(2, 3, h, w, kh, k, sh, s, ph, pad, ceil);
            float[] x = Values(g.InputLength, h * 1000 + w * 10 + k);
            float[] dy = KernelTestUtil.Random((int)g.OutputLength, k + s);
            float[] yRef = new float[g.OutputLength], dxRef = new float[g.InputLength];
            int[] argRef = new int[g.OutputLength];
            PoolingReference.MaxForward(g, x, yRef, argRef);
            PoolingReference.MaxBackward(g, dy, argRef, dxRef);
            string what = $"{h}x{w} kernel {kh}x{k} stride {sh}x{s} pad {ph}x{pad} ceil {ceil}";
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2 })
                    KernelTestUtil.With(width, threads, () =>
                    {
                        float[] y = Filled(g.OutputLength), dx = Filled(g.InputLength);
                        int[] arg = new int[g.OutputLength];
                        Pooling.MaxForward(g, x, y, arg);
                        KernelTestUtil.AssertBitIdentical(yRef, y, $"max forward {what} width {width}");
                        Assert.Equal(argRef, arg);
                        Pooling.MaxBackward(g, dy, arg, dx);
                        KernelTestUtil.AssertBitIdentical(dxRef, dx, $"max backward {what} width {width}");
                    });
        }
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void AvgMatchesReferenceAndIsTheSameAtEveryWidth(int k, int s, int pad, bool ceil)
    {
        foreach (var (h, w) in new[] { (7, 5), (9, 13), (6, 37) })
        foreach (bool include in new[] { true, false })
        {
            var g = Pool2dGeometry.Create(2, 3, h, w, k, k, s, s, pad, pad, ceil);
            float[] x = KernelTestUtil.Random((int)g.InputLength, h + w + k);
            float[] dy = KernelTestUtil.Random((int)g.OutputLength, k * s + 1);
            float[] yRef = new float[g.OutputLength], dxRef = new float[g.InputLength];
            PoolingReference.AvgForward(g, x, yRef, include);
            PoolingReference.AvgBackward(g, dy, dxRef, include);
            string what = $"{h}x{w} kernel {k} stride {s} pad {pad} ceil {ceil} countIncludePad {include}";
            float[]? y0 = null, dx0 = null;
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2 })
                    KernelTestUtil.With(width, threads, () =>
                    {
                        float[] y = Filled(g.OutputLength), dx = Filled(g.InputLength);
                        Pooling.AvgForward(g, x, y, include);
                        Pooling.AvgBackward(g, dy, dx, include);
                        // Float sums of at most 16 terms against the reference's double sums.
                        KernelTestUtil.AssertClose(yRef, y, 1e-6, 1e-5, $"avg forward {what} width {width}");
                        KernelTestUtil.AssertClose(dxRef, dx, 1e-6, 1e-5, $"avg backward {what} width {width}");
                        if (y0 is null) { y0 = y; dx0 = dx; return; }
                        KernelTestUtil.AssertBitIdentical(y0, y, $"avg forward {what}, width {width} against the first");
                        KernelTestUtil.AssertBitIdentical(dx0!, dx, $"avg backward {what}, width {width} against the first");
                    });
        }
    }

    [Fact]
    public void MaxOfAllMinusInfinityWindowsPointsAtTheFirstRealInput()
    {
        // Every input is -inf: each window's argmax must be its first real input, as the reference's, not a padded one.
        var g = Pool2dGeometry.Create(1, 2, 6, 40, 3, 3, 2, 2, 1, 1, true);
        float[] x = new float[g.InputLength];
        Array.Fill(x, float.NegativeInfinity);
        float[] y = new float[g.OutputLength], yRef = new float[g.OutputLength];
        int[] arg = new int[g.OutputLength], argRef = new int[g.OutputLength];
        PoolingReference.MaxForward(g, x, yRef, argRef);
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 1, () =>
            {
                Pooling.MaxForward(g, x, y, arg);
                KernelTestUtil.AssertBitIdentical(yRef, y, $"width {width}");
                Assert.Equal(argRef, arg);
            });
    }

    [Theory]
    [InlineData(8, 8, 1, 1)]
    [InlineData(7, 5, 1, 1)]
    [InlineData(7, 9, 3, 2)]
    [InlineData(5, 5, 7, 3)]
    [InlineData(6, 6, 3, 3)]
    public void AdaptiveAverageIsTheReferenceBitForBit(int h, int w, int oh, int ow)
    {
        const int planes = 9;   // the global path sums four planes at a time: 9 leaves one over
        float[] x = KernelTestUtil.Random(planes * h * w, h * w + oh);
        float[] dy = KernelTestUtil.Random(planes * oh * ow, ow + 3);
        dy[0] = -0f;            // the reference's 0 + (-0 / n) is +0
        float[] yRef = new float[planes * oh * ow], dxRef = new float[planes * h * w];
        PoolingReference.AdaptiveAvgForward(planes, h, w, oh, ow, x, yRef);
        PoolingReference.AdaptiveAvgBackward(planes, h, w, oh, ow, dy, dxRef);
        foreach (int threads in new[] { 1, 2 })
            KernelTestUtil.With(null, threads, () =>
            {
                float[] y = Filled(yRef.Length), dx = Filled(dxRef.Length);
                AdaptivePooling.AvgForward(planes, h, w, oh, ow, x, y);
                AdaptivePooling.AvgBackward(planes, h, w, oh, ow, dy, dx);
                KernelTestUtil.AssertBitIdentical(yRef, y, $"adaptive forward {h}x{w} -> {oh}x{ow}");
                KernelTestUtil.AssertBitIdentical(dxRef, dx, $"adaptive backward {h}x{w} -> {oh}x{ow}");
            });
    }

    [Fact]
    public void AdaptiveAverageRefusesBuffersOfTheWrongSize()
    {
        var e = Assert.Throws<ArgumentException>(() => AdaptivePooling.AvgForward(2, 4, 4, 1, 1, new float[31], new float[2]));
        Assert.Contains("needs 32 elements but has 31", e.Message);
    }

    // Small integers (ties everywhere), some -inf and some NaN.
    private static float[] Values(long length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < x.Length; i++)
        {
            int roll = rng.Next(40);
            x[i] = roll == 0 ? float.NaN : roll == 1 ? float.NegativeInfinity : rng.Next(-3, 4);
        }
        return x;
    }

    private static float[] Filled(long length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }
}
