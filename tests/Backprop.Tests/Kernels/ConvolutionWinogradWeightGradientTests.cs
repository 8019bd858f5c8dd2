using Backprop.Kernels;
using Xunit.Abstractions;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The Winograd F(4x4, 3x3) and F(4x4, 5x5) weight gradients against the plain loops (<see cref="ConvolutionReference"/>),
/// with AVX-512 and AVX2, on 1, 2 and 3 threads. As in the forward (ConvolutionWinogradTests), the transforms scale values by up to 8
/// before the tile sums, so an element's error scales with sum |x| |dy| over the pixels it sums, not with |dW|. The
/// tolerance is per element: |dW - reference| &lt;= Slack * 2^-24 * (the reference weight gradient of |x| and |dy|).
/// Slack = 256 is 5.7x the worst ratio measured on data like a trained net's, 45 on cifar10_quick's 5x5 conv3 shape (3x3: 40
/// on VGG's 256-channel layer; the direct path: 4.4 at most; see <see cref="ErrorOnRealisticData"/>).
/// F(4x4, 5x5) on the random data of <see cref="MatchesTheReference"/> stays at 28-73 except where a tile holds a lone
/// real pixel: a 1x1 input padded by 4 (1078) and a 5x5 input with one output pixel (416). There one pixel's transform
/// (B^T's column reaches 21/4, A's rows 8) is summed back through G^T (entries to 32/45) into every tap with little to
/// cancel, so the error is that of the lone product, not of a sum; Slack5x5 = 4096 holds those cases (3.8x the worst).
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradWeightGradientTests(ITestOutputHelper output)
{
    private const double Slack = 256;
    private const double Slack5x5 = 4096;
    private static readonly int[] Widths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 3, 3, 1, 1, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stage 3 shape, 8x8", G(3, 64, 8, 8, 64, 1) },
        { "H, W not multiples of 4 (edge tiles cut), pad 1", G(2, 16, 11, 13, 16, 1) },
        { "pad 0, 7x10 input (5x8 output)", G(2, 16, 7, 10, 32, 0) },
        { "pad 2 (output larger than input)", G(2, 16, 5, 6, 16, 2) },
        { "N = 1, C and K odd and small", G(1, 3, 9, 9, 5, 1) },
        { "C odd, K large (three 16-channel blocks plus 1)", G(2, 19, 6, 7, 49, 1) },
        { "C = 48 (an odd number of 16-channel blocks), K = 1", G(2, 48, 6, 6, 1, 1) },
        { "1x1 input, pad 1 (one output pixel per image)", G(5, 16, 1, 1, 16, 1) },
        { "3x3 input, pad 0 (one output pixel)", G(3, 17, 3, 3, 33, 0) },
        { "pad 1 on one axis only", new Conv2dGeometry(2, 16, 9, 12, 16, 3, 3, 1, 1, 0, 1, 1, 1, 1) },
        { "two slabs (128 tiles of 32 channels)", G(8, 32, 16, 16, 32, 1) },
        { "four slabs of two blocks each (256 tiles of 64 channels)", G(16, 64, 16, 16, 64, 1) },
        { "eight slabs, images across slab edges (520 tiles)", G(26, 16, 20, 14, 16, 1) },
    };

    private static Conv2dGeometry G5(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 5, 5, 1, 1, pad, pad, 1, 1, 1);

    // F(4x4, 5x5): 4x4 output tiles, 8x8 input patches; pads 0..4.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries5x5 = new()
    {
        { "5x5: cifar10_quick conv3 shape, 8x8, pad 2", G5(3, 32, 8, 8, 64, 2) },
        { "5x5: odd H, W (edge tiles cut), pad 2", G5(2, 16, 11, 13, 16, 2) },
        { "5x5: pad 0, 7x10 input (3x6 output)", G5(2, 16, 7, 10, 32, 0) },
        { "5x5: pad 1, 9x6 input (7x4 output)", G5(2, 17, 9, 6, 16, 1) },
        { "5x5: pad 3 (output larger than input)", G5(2, 16, 5, 6, 16, 3) },
        { "5x5: pad 4, 1x1 input (5x5 output of corner taps)", G5(3, 16, 1, 1, 16, 4) },
        { "5x5: N = 1, C and K odd and small", G5(1, 3, 9, 9, 5, 2) },
        { "5x5: C odd, K large (three 16-channel blocks plus 1)", G5(2, 19, 6, 7, 49, 2) },
        { "5x5: 5x5 input, pad 0 (one output pixel)", G5(3, 17, 5, 5, 33, 0) },
        { "5x5: pad 2 on one axis only", new Conv2dGeometry(2, 16, 9, 12, 16, 5, 5, 1, 1, 0, 2, 1, 1, 1) },
        { "5x5: two slabs, an image across the slab edge (180 tiles)", G5(5, 32, 11, 11, 32, 2) },
        { "5x5: eight slabs of two blocks each (1024 tiles of 32 channels)", G5(16, 32, 16, 16, 32, 2) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    [MemberData(nameof(Geometries5x5))]
    public void MatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), dy = KernelTestUtil.Random((int)g.OutputLength, 2);
        float[] expected = new float[g.WeightLength], scale = new float[g.WeightLength];
        ConvolutionReference.BackwardWeights(g, x, dy, expected, []);
        ConvolutionReference.BackwardWeights(g, Abs(x), Abs(dy), scale, []);
        foreach (int width in Widths)
        {
            KernelTestUtil.With(width, null, () => Assert.True(ConvolutionWinogradWeightGradient.Supports(g)));
            float[] one = Run(g.WeightLength, width, 1, dw => Compute(g, x, dy, dw));
            AssertWithin(expected, one, scale, g.KernelHeight == 5 ? Slack5x5 : Slack, $"{name}, width {width}");
            foreach (int threads in new[] { 2, 3 })
            {
                float[] more = Run(g.WeightLength, width, threads, dw => Compute(g, x, dy, dw));
                KernelTestUtil.AssertBitIdentical(one, more, $"{name}, width {width}, 1 and {threads} threads");
            }
        }
    }

    /// <summary>
    /// The error on data like a trained net's: inputs after ReLU (half zeros, the rest in [0, 1)), dy of either sign,
    /// ResNet-20's 32- and 64-channel, VGG's 256-channel and cifar10_quick's 5x5 layers (batch 8). Prints the worst error as a multiple of
    /// 2^-24 * (sum |x| |dy|) and relative to the largest |dW|, beside the direct path's.
    /// </summary>
    [Fact]
    public void ErrorOnRealisticData()
    {
        foreach (var g in new[] { G(8, 32, 16, 16, 32, 1), G(16, 64, 8, 8, 64, 1), G(2, 256, 8, 8, 256, 1), G5(8, 32, 16, 16, 32, 2), G5(8, 32, 8, 8, 64, 2) })
        {
            var rng = new Random(7);
            float[] x = new float[g.InputLength], dy = new float[g.OutputLength];
            for (int i = 0; i < x.Length; i++) x[i] = Math.Max(0f, (float)(rng.NextDouble() * 2 - 1));
            for (int i = 0; i < dy.Length; i++) dy[i] = (float)((rng.NextDouble() * 2 - 1) * 1e-3);
            float[] expected = new float[g.WeightLength], scale = new float[g.WeightLength];
            ConvolutionReference.BackwardWeights(g, x, dy, expected, []);
            ConvolutionReference.BackwardWeights(g, Abs(x), Abs(dy), scale, []);
            foreach (int width in Widths)
            {
                float[] winograd = Run(g.WeightLength, width, 2, dw => Compute(g, x, dy, dw));
                float[] direct = Run(g.WeightLength, width, 2, dw =>
                {
                    unsafe { fixed (float* px = x, pdy = dy, pdw = dw) ConvolutionDirectWeightGradient.Compute(g, px, pdy, pdw); }
                });
                foreach ((string path, float[] result) in new[] { ("Winograd", winograd), ("direct", direct) })
                {
                    double worstRatio = 0, worstAbs = 0, maxDw = 0;
                    for (int i = 0; i < result.Length; i++)
                    {
                        double err = Math.Abs(result[i] - (double)expected[i]);
                        worstRatio = Math.Max(worstRatio, err / (Math.Pow(2, -24) * scale[i]));
                        worstAbs = Math.Max(worstAbs, err);
                        maxDw = Math.Max(maxDw, Math.Abs(expected[i]));
                    }
                    output.WriteLine($"{g.InChannels}->{g.OutChannels} {g.InHeight}x{g.InWidth} batch {g.Batch}, width {width}, {path}: max |err| {worstAbs:E2} " +
                        $"= {worstAbs / maxDw:E2} of max |dW| {maxDw:E2}; worst err / (2^-24 sum |x||dy|) = {worstRatio:F1}");
                    Assert.True(worstRatio <= Slack, $"{path}: worst error ratio {worstRatio:F1}");
                }
            }
        }
    }

    [Fact]
    public void ConvolutionRunsItWhereItApplies()
    {
        var g = G(8, 32, 16, 16, 32, 1);   // 128 tiles
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), dy = KernelTestUtil.Random((int)g.OutputLength, 2);
        foreach (int width in Widths)
        {
            bool applies = false;
            KernelTestUtil.With(width, null, () => applies = ConvolutionWinogradWeightGradient.Applies(g));
            Assert.True(applies, $"the Winograd weight gradient should run at width {width}");
            float[] viaConvolution = Run(g.WeightLength, width, 2, dw => Convolution.BackwardWeights(g, x, dy, dw, []));
            float[] direct = Run(g.WeightLength, width, 2, dw => Compute(g, x, dy, dw));
            KernelTestUtil.AssertBitIdentical(direct, viaConvolution, $"Convolution.BackwardWeights vs Winograd, width {width}");
        }
        KernelTestUtil.With(0, null, () => Assert.False(ConvolutionWinogradWeightGradient.Applies(g)));   // no scalar path
        KernelTestUtil.With(128, null, () => Assert.False(ConvolutionWinogradWeightGradient.Applies(g)));
        Assert.False(ConvolutionWinogradWeightGradient.Applies(G(8, 40, 8, 8, 64, 1)));   // 40 channels: padded blocks, not measured
        Assert.False(ConvolutionWinogradWeightGradient.Applies(G(2, 64, 8, 8, 64, 1)));   // 8 tiles
        if (Widths.Length > 0) Assert.True(ConvolutionWinogradWeightGradient.Applies(G(1, 16, 16, 16, 16, 1)));   // 16 tiles, 16 channels
        Assert.False(ConvolutionWinogradWeightGradient.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1)));   // stride 2
        Assert.False(ConvolutionWinogradWeightGradient.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1)));   // dilation 2
        Assert.False(ConvolutionWinogradWeightGradient.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 2)));   // groups 2
        Assert.False(ConvolutionWinogradWeightGradient.Supports(G(2, 1024, 8, 8, 1024, 1)));   // M (36 x 1024 x 1024 floats) over budget
        Assert.False(ConvolutionWinogradWeightGradient.Supports(G(1, 256, 1024, 1024, 256, 1)));   // a bordered image copy of 512 x 1032 x 1032 floats per worker: over budget
    }

    [Fact]
    public void ConvolutionRunsItFor5x5WhereItApplies()
    {
        var g = G5(4, 32, 8, 8, 64, 2);   // cifar10_quick's conv3 at batch 4: 16 4x4 tiles
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), dy = KernelTestUtil.Random((int)g.OutputLength, 2);
        foreach (int width in Widths)
        {
            bool applies = false;
            KernelTestUtil.With(width, null, () => applies = ConvolutionWinogradWeightGradient.Applies(g));
            Assert.True(applies, $"the 5x5 Winograd weight gradient should run at width {width}");
            float[] viaConvolution = Run(g.WeightLength, width, 2, dw => Convolution.BackwardWeights(g, x, dy, dw, []));
            float[] direct = Run(g.WeightLength, width, 2, dw => Compute(g, x, dy, dw));
            KernelTestUtil.AssertBitIdentical(direct, viaConvolution, $"Convolution.BackwardWeights vs Winograd 5x5, width {width}");
        }
        KernelTestUtil.With(0, null, () => Assert.False(ConvolutionWinogradWeightGradient.Applies(g)));   // no scalar path
        Assert.False(ConvolutionWinogradWeightGradient.Applies(G5(1, 32, 6, 6, 32, 2)));   // 4 tiles
        Assert.False(ConvolutionWinogradWeightGradient.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 5, 5, 2, 2, 2, 2, 1, 1, 1)));   // stride 2
        Assert.False(ConvolutionWinogradWeightGradient.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 7, 7, 1, 1, 3, 3, 1, 1, 1)));   // 7x7
    }

    private static unsafe void Compute(Conv2dGeometry g, float[] x, float[] dy, float[] dw)
    {
        fixed (float* px = x, pdy = dy, pdw = dw) ConvolutionWinogradWeightGradient.Compute(g, px, pdy, pdw);
    }

    private static float[] Abs(float[] v) => [.. v.Select(Math.Abs)];

    private static void AssertWithin(float[] expected, float[] actual, float[] scale, double slack, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = slack * Math.Pow(2, -24) * scale[i] + 1e-30;
            double diff = Math.Abs(expected[i] - (double)actual[i]);
            if (!(diff <= tolerance))
                Assert.Fail($"{what}: index {i} expected {expected[i]:R} got {actual[i]:R} (diff {diff:E2}, tolerance {tolerance:E2})");
        }
    }

    private static float[] Run(long length, int width, int threads, Action<float[]> body)
    {
        float[] result = new float[length];
        Array.Fill(result, float.NaN);   // every element must be written
        KernelTestUtil.With(width, threads, () => body(result));
        return result;
    }
}
