using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>1x1 strided convolutions as pointwise ones on the subsampled input, and their row moves, against the reference loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionStridedPointwiseTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int sh, int sw, int groups = 1) =>
        new(n, c, h, w, k, 1, 1, sh, sw, 0, 0, 1, 1, groups);

    // ResNet's two shortcuts (small batch), odd sizes (the last row and column sampled), rows past one 16- and 32-float
    // vector, strides (2, 1), (1, 2) and 3, groups, batch 1, channel counts that leave part-filled tiles.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet 16->32 32x32", G(2, 16, 32, 32, 32, 2, 2) },
        { "ResNet 32->64 16x16", G(3, 32, 16, 16, 64, 2, 2) },
        { "odd 17x15", G(2, 5, 17, 15, 7, 2, 2) },
        { "wide odd rows 9x67", G(2, 3, 9, 67, 9, 2, 2) },
        { "output 8 wide, odd input 15x15", G(2, 8, 15, 15, 16, 2, 2) },
        { "stride 2x1", G(2, 4, 9, 10, 6, 2, 1) },
        { "stride 1x2", G(2, 4, 9, 10, 6, 1, 2) },
        { "stride 3", G(2, 3, 11, 10, 5, 3, 3) },
        { "groups 2", G(2, 4, 10, 12, 6, 2, 2, 2) },
        { "batch 1", G(1, 16, 32, 32, 32, 2, 2) },
        { "one pixel", G(2, 3, 1, 1, 2, 2, 2) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AllPassesMatchReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        Assert.True(ConvolutionStridedPointwise.Applies(g));
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] b = KernelTestUtil.Random(g.OutChannels, 3), dy = KernelTestUtil.Random((int)g.OutputLength, 4);
        float[] y = new float[g.OutputLength], dx = new float[g.InputLength], dw = new float[g.WeightLength], db = new float[g.OutChannels];
        ConvolutionReference.Forward(g, x, w, b, y);
        ConvolutionReference.BackwardData(g, dy, w, dx);
        ConvolutionReference.BackwardWeights(g, x, dy, dw, db);
        int depth = g.GroupInChannels, taps = g.OutChannels, pixels = g.Batch * g.OutHeight * g.OutWidth;
        foreach (int width in KernelTestUtil.Widths)
        {
            float[][]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                string what = $"{name} width={width} threads={threads}";
                float[] ay = Filled(g.OutputLength), adx = Filled(g.InputLength), adw = Filled(g.WeightLength), adb = Filled(g.OutChannels);
                float[] ry = Filled(g.OutputLength), rdx = Filled(g.InputLength), rdw = Filled(g.WeightLength), rdb = Filled(g.OutChannels);
                bool forwardRouted = false;
                KernelTestUtil.With(width, threads, () =>
                {
                    Convolution.Forward(g, x, w, b, ay);
                    Convolution.BackwardData(g, dy, w, adx);
                    Convolution.BackwardWeights(g, x, dy, adw, adb);
                    // The direct forward keeps the strided 1x1 layers it runs; the others come here.
                    forwardRouted = !(g.Groups == 1 && ConvolutionDirect.Applies(g));
                    ConvolutionStridedPointwise.Forward(g, x, w, b, ry, relu: false);
                    ConvolutionStridedPointwise.BackwardData(g, dy, w, rdx);
                    ConvolutionStridedPointwise.BackwardWeights(g, x, dy, rdw, rdb);
                });
                KernelTestUtil.AssertClose(y, ay, 1e-6 * (depth + 1), 1e-5, $"y {what}");
                KernelTestUtil.AssertClose(y, ry, 1e-6 * (depth + 1), 1e-5, $"y (path) {what}");
                KernelTestUtil.AssertClose(dx, adx, 1e-6 * (taps + 1), 1e-5, $"dx {what}");
                KernelTestUtil.AssertClose(dw, adw, 1e-6 * (pixels + 1), 1e-4, $"dW {what}");
                KernelTestUtil.AssertClose(db, adb, 1e-6 * (pixels + 1), 1e-4, $"dB {what}");
                // Routed here, not merely close: the bits of a direct call of the path.
                if (forwardRouted) KernelTestUtil.AssertBitIdentical(ry, ay, $"y {what}: Convolution.Forward vs the path");
                KernelTestUtil.AssertBitIdentical(rdx, adx, $"dx {what}: Convolution.BackwardData vs the path");
                KernelTestUtil.AssertBitIdentical(rdw, adw, $"dW {what}: Convolution.BackwardWeights vs the path");
                KernelTestUtil.AssertBitIdentical(rdb, adb, $"dB {what}: Convolution.BackwardWeights vs the path");
                float[][] all = [ay, adx, adw, adb];
                if (first is null) first = all;
                else
                    for (int i = 0; i < all.Length; i++) KernelTestUtil.AssertBitIdentical(first[i], all[i], $"output {i} {what} vs 1 thread");
            }
        }
    }

    [Fact]
    public void PaddedOr3x3StridedConvolutionsDoNotApply()
    {
        Assert.False(ConvolutionStridedPointwise.Applies(new Conv2dGeometry(2, 4, 8, 8, 4, 1, 1, 2, 2, 1, 1, 1, 1, 1)));
        Assert.False(ConvolutionStridedPointwise.Applies(new Conv2dGeometry(2, 4, 8, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1)));
        Assert.False(ConvolutionStridedPointwise.Applies(new Conv2dGeometry(2, 4, 8, 8, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1)));
    }

    // Every count and offset around the vector sizes, at every width: the same floats as the plain loops.
    [Fact]
    public unsafe void RowMovesMatchPlainLoopsAtEveryWidth()
    {
        float[] source = KernelTestUtil.Random(200, 5);
        foreach (int width in KernelTestUtil.Widths)
            for (int count = 0; count <= 70; count++)
            {
                // The source ends at the last float taken (2*count - 2), as a plane row's last sampled column may.
                int sourceLength = Math.Max(0, 2 * count - 1);
                float[] s = source[..sourceLength], gathered = Filled(count + 1);
                fixed (float* ps = s, pd = gathered) StridedRows.GatherEven(width, ps, pd, count);
                for (int j = 0; j < count; j++) Assert.Equal(s[2 * j], gathered[j]);
                Assert.True(float.IsNaN(gathered[count]), $"GatherEven wrote past {count} at width {width}");
                foreach (int length in new[] { 2 * count - 1, 2 * count })
                {
                    if (length < 0) continue;
                    float[] spread = Filled(length + 1), dense = source[..count];
                    fixed (float* ps = dense, pd = spread) StridedRows.SpreadEven(width, ps, pd, count, length);
                    for (int i = 0; i < length; i++) Assert.Equal(i % 2 == 0 ? dense[i / 2] : 0f, spread[i]);
                    Assert.True(float.IsNaN(spread[length]), $"SpreadEven wrote past {length} at width {width}");
                }
            }
    }

    private static float[] Filled(long length)
    {
        float[] a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }
}
