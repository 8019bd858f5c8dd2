using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class PoolingTests
{
    // (N, C, H, W, KH, KW, SH, SW, PH, PW, ceil)
    public static readonly TheoryData<string, Pool2dGeometry> Geometries = new()
    {
        { "LeNet 2x2 s2", Pool2dGeometry.Create(2, 3, 24, 24, 2, 2, 2, 2, 0, 0, false) },
        { "3x3 s2 ceil odd", Pool2dGeometry.Create(2, 2, 7, 9, 3, 3, 2, 2, 0, 0, true) },
        { "3x3 s2 floor odd", Pool2dGeometry.Create(2, 2, 7, 9, 3, 3, 2, 2, 0, 0, false) },
        { "3x3 s2 ceil even", Pool2dGeometry.Create(1, 3, 6, 6, 3, 3, 2, 2, 0, 0, true) },
        { "2x2 s2 pad 1 ceil", Pool2dGeometry.Create(3, 2, 5, 5, 2, 2, 2, 2, 1, 1, true) },
        { "3x3 s1 pad 1", Pool2dGeometry.Create(2, 3, 8, 7, 3, 3, 1, 1, 1, 1, false) },
        { "3x3 s2 pad 1 ceil", Pool2dGeometry.Create(2, 3, 13, 11, 3, 3, 2, 2, 1, 1, true) },
        { "asymmetric 3x2 s(2,1) pad(1,0)", Pool2dGeometry.Create(1, 4, 11, 6, 3, 2, 2, 1, 1, 0, true) },
        { "5x4 s3 pad 2 ceil", Pool2dGeometry.Create(2, 2, 17, 10, 5, 4, 3, 3, 2, 2, true) },
        // Caffe's pads up to kernel − 1 (SPP's levels need them): windows that are mostly padding.
        { "3x3 s2 pad 2 ceil", Pool2dGeometry.Create(2, 3, 9, 8, 3, 3, 2, 2, 2, 2, true) },
        { "SPP 9x8 at 4 bins: 3x2 s(3,2) pad(2,0)", Pool2dGeometry.Create(1, 2, 9, 8, 3, 2, 3, 2, 2, 0, true) },
        { "5x5 s5 pad 4x3 ceil", Pool2dGeometry.Create(2, 2, 9, 8, 5, 5, 5, 5, 4, 3, true) },
        { "4x4 s1 pad 3 floor", Pool2dGeometry.Create(1, 3, 6, 7, 4, 4, 1, 1, 3, 3, false) },
        { "global 1x1 output", Pool2dGeometry.Create(2, 5, 7, 7, 7, 7, 1, 1, 0, 0, false) },
        { "1x1 input", Pool2dGeometry.Create(3, 2, 1, 1, 1, 1, 1, 1, 0, 0, true) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxValuesWithoutArgmaxAreMaxForwardsBits(string name, Pool2dGeometry g)
    {
        // Ties between +0 and -0 and NaNs among small integers: which candidate is kept shows in the bits.
        var rng = new Random(9);
        float[] x = new float[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(8) switch { 0 => 0f, 1 => -0f, 2 => float.NaN, 3 => -float.NaN, _ => rng.Next(-2, 3) };
        foreach (var geometry in new[] { g, Pool2dGeometry.Create(3, 2, 24, 30, 2, 2, 2, 2, 0, 0, true), Pool2dGeometry.Create(2, 2, 9, 41, 2, 2, 2, 2, 0, 0, true) })
        {
            if (geometry.InputLength > x.Length) Array.Resize(ref x, (int)geometry.InputLength);
            float[] input = x[..(int)geometry.InputLength];
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2 })
                {
                    float[] expected = new float[geometry.OutputLength], actual = new float[geometry.OutputLength];
                    Array.Fill(actual, 7f);
                    KernelTestUtil.With(width, threads, () =>
                    {
                        Pooling.MaxForward(geometry, input, expected, new int[geometry.OutputLength]);
                        Pooling.MaxForwardValues(geometry, input, actual);
                    });
                    KernelTestUtil.AssertBitIdentical(expected, actual, $"{name}: {geometry.InHeight}x{geometry.InWidth}, width {width}, {threads} threads");
                }
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxMatchesReference(string name, Pool2dGeometry g)
    {
        // Small integers make ties common, so "first maximum wins" is checked too.
        var rng = new Random(5);
        float[] x = new float[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(-3, 4);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 6);
        foreach (int threads in new[] { 1, 2 })
        {
            KernelTestUtil.With(null, threads, () =>
            {
                float[] y = new float[g.OutputLength], yRef = new float[g.OutputLength];
                int[] arg = new int[g.OutputLength], argRef = new int[g.OutputLength];
                PoolingReference.MaxForward(g, x, yRef, argRef);
                Pooling.MaxForward(g, x, y, arg);
                KernelTestUtil.AssertBitIdentical(yRef, y, $"max forward {name}");
                Assert.Equal(argRef, arg);
                float[] dx = Filled(g.InputLength), dxRef = Filled(g.InputLength);
                PoolingReference.MaxBackward(g, dy, argRef, dxRef);
                Pooling.MaxBackward(g, dy, arg, dx);
                KernelTestUtil.AssertClose(dxRef, dx, 1e-6, 1e-6, $"max backward {name}");
            });
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgMatchesReference(string name, Pool2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 7);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 8);
        foreach (bool include in new[] { true, false })
        foreach (int threads in new[] { 1, 2 })
        {
            KernelTestUtil.With(null, threads, () =>
            {
                float[] y = Filled(g.OutputLength), yRef = Filled(g.OutputLength);
                PoolingReference.AvgForward(g, x, yRef, include);
                Pooling.AvgForward(g, x, y, include);
                KernelTestUtil.AssertClose(yRef, y, 1e-6, 1e-5, $"avg forward {name} countIncludePad={include}");
                float[] dx = Filled(g.InputLength), dxRef = Filled(g.InputLength);
                PoolingReference.AvgBackward(g, dy, dxRef, include);
                Pooling.AvgBackward(g, dy, dx, include);
                KernelTestUtil.AssertClose(dxRef, dx, 1e-6, 1e-5, $"avg backward {name} countIncludePad={include}");
            });
        }
    }

    [Fact]
    public void MaxFirstMaximumWinsAndPaddingNeverWins()
    {
        // 1 plane 2x3, kernel 2x2 stride 2 pad 1 -> 2x2 output; all inputs negative so padding (0) would win if counted.
        var g = new Pool2dGeometry(1, 1, 2, 3, 2, 2, 2, 2, 1, 1, 2, 2);
        float[] x = [-5, -2, -2, -1, -7, -1];
        float[] y = new float[4];
        int[] arg = new int[4];
        Pooling.MaxForward(g, x, y, arg);
        // windows: rows [-1,1) cols [-1,1): {x00}; cols [1,3): {x01, x02} tie -> first (1);
        //          rows [1,3) cols [-1,1): {x10}; cols [1,3): {x11, x12} -> x12 = -1 (5)
        Assert.Equal(new float[] { -5, -2, -1, -1 }, y);
        Assert.Equal(new[] { 0, 1, 3, 5 }, arg);
    }

    [Fact]
    public void MaxPropagatesNaN()
    {
        var g = new Pool2dGeometry(1, 1, 2, 4, 2, 2, 2, 2, 0, 0, 1, 2);
        float[] x = [1, float.NaN, 3, 4, 5, 6, float.NaN, 8];
        float[] y = new float[2], yRef = new float[2];
        int[] arg = new int[2], argRef = new int[2];
        Pooling.MaxForward(g, x, y, arg);
        PoolingReference.MaxForward(g, x, yRef, argRef);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[1]));
        Assert.Equal(new[] { 1, 6 }, arg);
        Assert.Equal(argRef, arg);
    }

    [Fact]
    public void AvgDivisorsByHand()
    {
        // 1 plane 2x2 of ones, kernel 2 stride 2 pad 1 -> 2x2 output, each window holds one real input.
        var g = new Pool2dGeometry(1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 2, 2);
        float[] x = [1, 1, 1, 1], y = new float[4];
        Pooling.AvgForward(g, x, y, countIncludePad: true);
        Assert.Equal(new float[] { 0.25f, 0.25f, 0.25f, 0.25f }, y);
        Pooling.AvgForward(g, x, y, countIncludePad: false);
        Assert.Equal(new float[] { 1, 1, 1, 1 }, y);

        // Caffe ceil mode: 3 inputs, kernel 2 stride 2 pad 0 -> 2 outputs; the last window [2, 4) is clipped
        // to [2, 3) by the padded end (in + pad = 3), so its divisor is 1 even with countIncludePad.
        var c = new Pool2dGeometry(1, 1, 1, 3, 1, 2, 1, 2, 0, 0, 1, 2);
        float[] row = [2, 4, 6], outRow = new float[2];
        Pooling.AvgForward(c, row, outRow, countIncludePad: true);
        Assert.Equal(new float[] { 3, 6 }, outRow);
    }

    public static readonly TheoryData<int, int, int, bool> TwoByTwoShapes = new()
    {
        // (H, W, width, ceil): widths around the vector widths (4, 8, 16 outputs = 8, 16, 32 inputs), odd sizes, one column.
        { 24, 24, 512, false }, { 8, 8, 256, false }, { 7, 33, 512, true }, { 5, 65, 256, true }, { 9, 31, 128, true },
        { 2, 2, 0, false }, { 3, 1, 512, true }, { 4, 67, 128, false }, { 6, 17, 0, true }, { 13, 41, 512, false },
        // 8 wide (two output rows per step): 4 rows of windows, 5 (one left over), and a row without windows.
        { 8, 8, 0, false }, { 10, 8, 0, false }, { 9, 8, 0, false }, { 9, 8, 0, true },
        // VGG's 64- and 32-wide planes (the backward's whole rows of windows, no clearing pass), and one row short of a window.
        { 6, 64, 0, false }, { 5, 32, 0, false }, { 4, 16, 256, true },
    };

    [Theory]
    [MemberData(nameof(TwoByTwoShapes))]
    public void TwoByTwoFastPathMatchesReferenceAtEveryWidth(int h, int w, int maxWidth, bool ceil)
    {
        var g = Pool2dGeometry.Create(2, 3, h, w, 2, 2, 2, 2, 0, 0, ceil);
        var rng = new Random(h * 100 + w);
        float[] x = new float[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(-3, 4);   // ties everywhere
        x[5] = float.NaN;                                             // and NaNs at odd and even columns
        x[x.Length / 2] = float.NaN;
        if (x.Length > 3) x[x.Length - 3] = float.NaN;
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 9);
        foreach (int width in KernelTestUtil.Widths.Where(v => v <= maxWidth || maxWidth == 0))
        foreach (int threads in new[] { 1, 2 })
        {
            KernelTestUtil.With(width, threads, () =>
            {
                float[] y = Filled(g.OutputLength), yRef = Filled(g.OutputLength);
                int[] arg = new int[g.OutputLength], argRef = new int[g.OutputLength];
                PoolingReference.MaxForward(g, x, yRef, argRef);
                Pooling.MaxForward(g, x, y, arg);
                KernelTestUtil.AssertBitIdentical(yRef, y, $"max forward {h}x{w} width {width}");
                Assert.Equal(argRef, arg);
                float[] dyMax = (float[])dy.Clone();
                dyMax[0] = -0f;                                   // the reference's 0 + (-0) is +0
                if (dyMax.Length > 2) dyMax[^2] = float.NaN;
                float[] dxMax = Filled(g.InputLength), dxMaxRef = Filled(g.InputLength);
                PoolingReference.MaxBackward(g, dyMax, argRef, dxMaxRef);
                Pooling.MaxBackward(g, dyMax, arg, dxMax);
                KernelTestUtil.AssertBitIdentical(dxMaxRef, dxMax, $"max backward {h}x{w} width {width}");
                float[] xr = KernelTestUtil.Random((int)g.InputLength, 10);
                foreach (bool include in new[] { true, false })
                {
                    PoolingReference.AvgForward(g, xr, yRef, include);
                    Pooling.AvgForward(g, xr, y, include);
                    KernelTestUtil.AssertClose(yRef, y, 1e-6, 1e-5, $"avg forward {h}x{w} width {width}");
                    float[] dx = Filled(g.InputLength), dxRef = Filled(g.InputLength);
                    PoolingReference.AvgBackward(g, dy, dxRef, include);
                    Pooling.AvgBackward(g, dy, dx, include);
                    KernelTestUtil.AssertClose(dxRef, dx, 1e-6, 1e-5, $"avg backward {h}x{w} width {width}");
                }
            });
        }
    }

    [Fact]
    public void MaxBackwardWithAnArgmaxOutsideItsWindowScattersAsTheReference()
    {
        // Whole 2x2 windows take the window-by-window path, unless an argmax points elsewhere in the plane.
        var g = Pool2dGeometry.Create(1, 2, 8, 20, 2, 2, 2, 2, 0, 0, false);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 13);
        int[] arg = new int[g.OutputLength];
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 10; j++) arg[(p * 4 + i) * 10 + j] = (2 * i) * 20 + 2 * j + (i + j) % 2;
        arg[3] = 7 * 20 + 19;   // plane 0: a cell of another window
        arg[47] = 0;            // plane 1: the first cell of the plane
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 1, () =>
            {
                float[] dx = Filled(g.InputLength), dxRef = Filled(g.InputLength);
                PoolingReference.MaxBackward(g, dy, arg, dxRef);
                Pooling.MaxBackward(g, dy, arg, dx);
                KernelTestUtil.AssertBitIdentical(dxRef, dx, $"max backward, stray argmax, width {width}");
            });
    }

    [Fact]
    public void MaxBackwardOnEightWidePlanesWithAStrayArgmaxScattersAsTheReference()
    {
        // 8-wide planes go two output rows at a time, unless an argmax points outside its window.
        var g = Pool2dGeometry.Create(2, 2, 8, 8, 2, 2, 2, 2, 0, 0, false);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 14);
        int[] arg = new int[g.OutputLength];
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) arg[(p * 4 + i) * 4 + j] = (2 * i + (i + j) % 2) * 8 + 2 * j + j % 2;
        arg[16 + 5] = 63;   // plane 1: a cell of another window
        arg[48 + 15] = 0;   // plane 3: the first cell of the plane
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 1, () =>
            {
                float[] dx = Filled(g.InputLength), dxRef = Filled(g.InputLength);
                PoolingReference.MaxBackward(g, dy, arg, dxRef);
                Pooling.MaxBackward(g, dy, arg, dx);
                KernelTestUtil.AssertBitIdentical(dxRef, dx, $"max backward, 8 wide, stray argmax, width {width}");
            });
    }

    [Fact]
    public void TwoByTwoResultsAreIdenticalAtEveryWidth()
    {
        var g = Pool2dGeometry.Create(3, 5, 24, 37, 2, 2, 2, 2, 0, 0, true);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 11);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 12);
        float[]? y0 = null, a0 = null, d0 = null;
        foreach (int width in KernelTestUtil.Widths)
        {
            KernelTestUtil.With(width, 2, () =>
            {
                float[] y = new float[g.OutputLength], ya = new float[g.OutputLength], dx = new float[g.InputLength];
                int[] arg = new int[g.OutputLength];
                Pooling.MaxForward(g, x, y, arg);
                Pooling.AvgForward(g, x, ya, true);
                Pooling.AvgBackward(g, dy, dx, true);
                if (y0 is null) { y0 = y; a0 = ya; d0 = dx; return; }
                KernelTestUtil.AssertBitIdentical(y0, y, $"max width {width}");
                KernelTestUtil.AssertBitIdentical(a0!, ya, $"avg width {width}");
                KernelTestUtil.AssertBitIdentical(d0!, dx, $"avg backward width {width}");
            });
        }
    }

    private static float[] Filled(long length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }
}
