using Backprop.Kernels;
using Xunit.Abstractions;

namespace Backprop.Tests.Kernels;

/// <summary>
/// Winograd F(4x4, 3x3) against the plain loops (<see cref="ConvolutionReference"/>), with AVX-512 and AVX2, on 1 and 2
/// threads. Its rounding differs from a direct sum: the transforms multiply by up to 8 and divide by up to 24 before the
/// products are summed, so an output's error scales with sum |w| |x| over its window, not with |y|. The tolerance is
/// therefore per output: |y - reference| &lt;= Slack * 2^-24 * (|b| + sum over the window of |w| |x|), where that sum is the
/// reference convolution of |x| by |w|. Slack = 256 is 4x the worst ratio measured here, 64 (see
/// <see cref="ErrorOnRealisticData"/>); F(6x6, 3x3) would need about 10x more, a direct sum about 1.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradTests(ITestOutputHelper output)
{
    internal const double Slack = 256;
    internal static readonly int[] Widths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 3, 3, 1, 1, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stage 3 shape, 8x8 (one tile row of two tiles per image)", G(3, 64, 8, 8, 64, 1) },
        { "H, W not multiples of 4 (edge tiles cut), pad 1", G(2, 16, 11, 13, 16, 1) },
        { "pad 0, 7x10 input (5x8 output)", G(2, 16, 7, 10, 32, 0) },
        { "pad 2 (output larger than input)", G(1, 16, 5, 6, 16, 2) },
        { "N = 1, C and K odd and small", G(1, 3, 9, 9, 5, 1) },
        { "C odd, K large (three 16-channel blocks plus 1)", G(2, 19, 6, 7, 49, 1) },
        { "C large, K = 1", G(2, 80, 6, 6, 1, 1) },
        { "1x1 input, pad 1 (one output pixel per image)", G(5, 16, 1, 1, 16, 1) },
        { "3x3 input, pad 0 (one output pixel)", G(3, 17, 3, 3, 33, 0) },
        { "pad 1 on one axis only", new Conv2dGeometry(2, 16, 9, 12, 16, 3, 3, 1, 1, 0, 1, 1, 1, 1) },
        { "many tiles over many blocks (64x64 plane)", G(2, 16, 64, 64, 16, 1) },
        { "tile rows longer than one output run (19 tiles: 16, then 3, the last cut to 3 columns)", G(2, 16, 5, 75, 32, 1) },
        { "VGG's 256 channels, 8x8", G(2, 256, 8, 8, 256, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        foreach (int width in Widths)
            foreach (bool relu in new[] { false, true })
                foreach (float[] b in new[] { bias, [] })
                {
                    float[] expected = new float[g.OutputLength];
                    ConvolutionReference.Forward(g, x, w, b, expected);
                    if (relu) Activations.ReluForward(expected, expected);
                    float[] scale = WindowScale(g, x, w, b);
                    float[] one = Run(g.OutputLength, width, 1, y => Forward(g, x, w, b, y, relu));
                    float[] two = Run(g.OutputLength, width, 2, y => Forward(g, x, w, b, y, relu));
                    AssertWithin(expected, one, scale, $"{name}, width {width}, relu {relu}, bias {b.Length > 0}");
                    KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}, 1 and 2 threads");
                }
    }

    public static readonly TheoryData<string, Conv2dGeometry> BackwardGeometries = new()
    {
        { "pad 1, 8x8", G(3, 32, 8, 8, 16, 1) },
        { "pad 0, 9x11", G(2, 16, 9, 11, 17, 0) },
        { "pad 2, 6x5", G(2, 5, 6, 5, 16, 2) },
        { "N = 1, pad 1, 13x7", G(1, 16, 13, 7, 48, 1) },
    };

    [Theory]
    [MemberData(nameof(BackwardGeometries))]
    public void BackwardDataMatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5);
        float[] expected = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, dy, w, expected);
        // The scale of dx: the backward-data of |dy| by |w|.
        float[] scale = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, Abs(dy), Abs(w), scale);
        foreach (int width in Widths)
        {
            Assert.True(ConvolutionWinograd.SupportsBackwardData(g));
            float[] one = Run(g.InputLength, width, 1, dx => BackwardData(g, dy, w, dx));
            float[] two = Run(g.InputLength, width, 2, dx => BackwardData(g, dy, w, dx));
            AssertWithin(expected, one, scale, $"{name}, width {width}, backward-data");
            KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}, backward-data on 1 and 2 threads");
        }
    }

    /// <summary>
    /// The error on data like a trained net's: inputs after ReLU (half zeros, the rest in [0, 1)), He-initialised
    /// weights, ResNet-20's 64-channel and VGG's 256-channel 3x3 layers. Prints the worst error as a multiple of
    /// 2^-24 * (sum |w| |x|) and relative to the largest |y|.
    /// </summary>
    [Fact]
    public void ErrorOnRealisticData()
    {
        foreach (var g in new[] { G(4, 64, 8, 8, 64, 1), G(2, 256, 8, 8, 256, 1), G(2, 16, 32, 32, 16, 1) })
            CheckErrorOnRealisticData(g, "", output);
    }

    /// <summary>
    /// The Winograd forward and the direct/GEMM path on g (any kernel size Winograd supports) with ReLU-like inputs and
    /// He-initialised weights: prints each path's worst error against the reference and asserts it within Slack.
    /// </summary>
    internal static void CheckErrorOnRealisticData(Conv2dGeometry g, string label, ITestOutputHelper output)
    {
        var rng = new Random(7);
        float[] x = new float[g.InputLength], w = new float[g.WeightLength];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Max(0f, (float)(rng.NextDouble() * 2 - 1));
        double std = Math.Sqrt(2.0 / (g.KernelHeight * g.KernelWidth * g.InChannels));
        for (int i = 0; i < w.Length; i++) w[i] = (float)(std * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        float[] expected = new float[g.OutputLength], scale = WindowScale(g, x, w, []);
        ConvolutionReference.Forward(g, x, w, [], expected);
        foreach (int width in Widths)
        {
            float[] y = Run(g.OutputLength, width, 2, y => Forward(g, x, w, [], y, false));
            ConvolutionWinograd.Enabled = false;
            float[] other;
            try { other = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, [], y)); }
            finally { ConvolutionWinograd.Enabled = true; }
            foreach ((string path, float[] result) in new[] { ("Winograd", y), ("direct/GEMM", other) })
            {
                double worstRatio = 0, worstAbs = 0, maxY = 0;
                for (int i = 0; i < result.Length; i++)
                {
                    double err = Math.Abs(result[i] - (double)expected[i]);
                    worstRatio = Math.Max(worstRatio, err / (Math.Pow(2, -24) * scale[i]));
                    worstAbs = Math.Max(worstAbs, err);
                    maxY = Math.Max(maxY, Math.Abs(expected[i]));
                }
                output.WriteLine($"{label}{g.InChannels}->{g.OutChannels} {g.InHeight}x{g.InWidth}, width {width}, {path}: max |err| {worstAbs:E2} " +
                    $"= {worstAbs / maxY:E2} of max |y| {maxY:F3}; worst err / (2^-24 sum |w||x|) = {worstRatio:F1}");
                Assert.True(worstRatio <= Slack, $"{path}: worst error ratio {worstRatio:F1}");
            }
        }
    }

    [Fact]
    public void ConvolutionRunsItWhereItApplies()
    {
        var g = G(32, 64, 8, 8, 64, 1);   // 128 tiles
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2), b = KernelTestUtil.Random(64, 3);
        foreach (int width in Widths)
        {
            bool applies = false;
            KernelTestUtil.With(width, null, () => applies = ConvolutionWinograd.Applies(g));
            Assert.True(applies, $"Winograd should run at width {width}");
            float[] viaConvolution = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, b, y, relu: true));
            float[] direct = Run(g.OutputLength, width, 2, y => Forward(g, x, w, b, y, true));
            KernelTestUtil.AssertBitIdentical(direct, viaConvolution, $"Convolution.Forward vs Winograd, width {width}");
            float[] dy = KernelTestUtil.Random((int)g.OutputLength, 4);
            float[] dxConvolution = Run(g.InputLength, width, 2, dx => Convolution.BackwardData(g, dy, w, dx));
            float[] dxWinograd = Run(g.InputLength, width, 2, dx => BackwardData(g, dy, w, dx));
            KernelTestUtil.AssertBitIdentical(dxWinograd, dxConvolution, $"Convolution.BackwardData vs Winograd, width {width}");
        }
        KernelTestUtil.With(0, null, () => Assert.False(ConvolutionWinograd.Applies(g)));   // no scalar path
        // ResNet's 16-channel layers: no faster than direct with AVX-512, 0.6x its time on AVX2 (its direct kernel splits 16 rows 6+6+4)
        var res16 = G(128, 16, 32, 32, 16, 1);
        foreach (int width in Widths)
            KernelTestUtil.With(width, null, () => Assert.Equal(width < 512, ConvolutionWinograd.Applies(res16) && ConvolutionWinograd.AppliesToBackwardData(res16)));
        Assert.False(ConvolutionWinograd.Applies(G(2, 40, 8, 8, 64, 1)));       // 40 channels: padded blocks, not measured
        Assert.False(ConvolutionWinograd.Applies(G(1, 256, 8, 8, 256, 1)));     // batch 1, 4 tiles: the weight transform outweighs the savings
        Assert.False(ConvolutionWinograd.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1)));   // stride 2
        Assert.False(ConvolutionWinograd.Supports(new Conv2dGeometry(2, 16, 8, 8, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1)));   // dilation 2
        Assert.False(ConvolutionWinograd.SupportsBackwardData(G(2, 16, 8, 8, 16, 3)));   // pad 3: the flipped pad would be -1
    }

    internal static unsafe void Forward(Conv2dGeometry g, float[] x, float[] w, float[] b, float[] y, bool relu)
    {
        fixed (float* px = x, pw = w, pb = b, py = y) ConvolutionWinograd.Forward(g, px, pw, b.Length != 0 ? pb : null, py, relu);
    }

    internal static unsafe void BackwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx) ConvolutionWinograd.BackwardData(g, pdy, pw, pdx);
    }

    // |b| + sum over each output's window of |w| |x|: what an output's rounding error scales with.
    internal static float[] WindowScale(in Conv2dGeometry g, float[] x, float[] w, float[] b)
    {
        float[] scale = new float[g.OutputLength];
        ConvolutionReference.Forward(g, Abs(x), Abs(w), Abs(b), scale);
        return scale;
    }

    internal static float[] Abs(float[] v) => [.. v.Select(Math.Abs)];

    internal static void AssertWithin(float[] expected, float[] actual, float[] scale, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Slack * Math.Pow(2, -24) * scale[i] + 1e-30;
            double diff = Math.Abs(expected[i] - (double)actual[i]);
            if (!(diff <= tolerance))
                Assert.Fail($"{what}: index {i} expected {expected[i]:R} got {actual[i]:R} (diff {diff:E2}, tolerance {tolerance:E2})");
        }
    }

    internal static float[] Run(long length, int width, int threads, Action<float[]> body)
    {
        float[] result = new float[length];
        Array.Fill(result, float.NaN);   // every element must be written
        KernelTestUtil.With(width, threads, () => body(result));
        return result;
    }
}
