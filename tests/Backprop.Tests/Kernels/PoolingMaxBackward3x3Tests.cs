using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// Max pooling backward of 3x3 stride-2 windows (PoolingMaxBackward3x3: each dx gathers its windows' dy) against the
/// reference's scatter, bit for bit, at every width and thread count, with ties, NaN and shared maxima.
/// </summary>
[Collection("KernelSettings")]
public class PoolingMaxBackward3x3Tests
{
    public static readonly TheoryData<int, int, bool> Planes = new()
    {
        { 32, 32, true },    // cifar10's pool1: 16x16, the last windows clipped
        { 32, 32, false },   // floor: 15x15, the last input row and column in no window
        { 16, 16, true },
        { 33, 48, true },    // odd height, three 16-column runs
        { 7, 16, false },
    };

    [Theory]
    [MemberData(nameof(Planes))]
    public void MatchesTheReferenceBitForBit(int h, int w, bool ceil)
    {
        var g = Pool2dGeometry.Create(3, 5, h, w, 3, 3, 2, 2, 0, 0, ceil);
        // Few distinct values: many ties, and maxima shared by neighbouring windows (one dx summing up to four dy).
        var random = new Random(h * 100 + w);
        float[] x = new float[g.InputLength];
        for (int t = 0; t < x.Length; t++) x[t] = random.Next(4);
        x[5] = float.NaN;
        x[w + 9] = float.NegativeInfinity;
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, h + w);
        dy[1] = -0f;
        float[] yRef = new float[g.OutputLength], dxRef = new float[g.InputLength];
        int[] argRef = new int[g.OutputLength];
        PoolingReference.MaxForward(g, x, yRef, argRef);
        PoolingReference.MaxBackward(g, dy, argRef, dxRef);
        foreach (int width in KernelTestUtil.Widths)
            foreach (int threads in new[] { 1, 2 })
                KernelTestUtil.With(width, threads, () =>
                {
                    float[] dx = new float[g.InputLength];
                    Array.Fill(dx, float.NaN);   // every dx must be written
                    Pooling.MaxBackward(g, dy, argRef, dx);
                    KernelTestUtil.AssertBitIdentical(dxRef, dx, $"{h}x{w} ceil {ceil}, width {width}, {threads} threads");
                });
    }

    [Fact]
    public void RunsForCifarsFirstPool()
    {
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Max != 512) return;
            Assert.True(PoolingMaxBackward3x3.Applies(Pool2dGeometry.Create(100, 32, 32, 32, 3, 3, 2, 2, 0, 0, true), 512));
            Assert.False(PoolingMaxBackward3x3.Applies(Pool2dGeometry.Create(100, 32, 32, 32, 3, 3, 2, 2, 1, 1, true), 512));
            Assert.False(PoolingMaxBackward3x3.Applies(Pool2dGeometry.Create(100, 32, 32, 32, 3, 3, 2, 2, 0, 0, true), 256));
        });
    }

    [Fact]
    public void AnArgmaxOutsideItsWindowIsScatteredAsTheReferenceDoes()
    {
        var g = Pool2dGeometry.Create(2, 2, 32, 32, 3, 3, 2, 2, 0, 0, true);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 9);
        int[] arg = new int[g.OutputLength];
        for (int o = 0; o < arg.Length; o++) arg[o] = (o / 16 % 16) * 2 * 32 + o % 16 * 2;   // each window's top-left
        arg[40] = 1000;   // inside the plane, far from its window
        float[] dxRef = new float[g.InputLength];
        PoolingReference.MaxBackward(g, dy, arg, dxRef);
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 2, () =>
            {
                float[] dx = new float[g.InputLength];
                Pooling.MaxBackward(g, dy, arg, dx);
                KernelTestUtil.AssertBitIdentical(dxRef, dx, $"width {width}");
            });
        arg[41] = 32 * 32;   // outside the plane
        foreach (int width in KernelTestUtil.Widths)
            KernelTestUtil.With(width, 1, () => Assert.Throws<ArgumentException>(() => Pooling.MaxBackward(g, dy, arg, new float[g.InputLength])));
    }
}
