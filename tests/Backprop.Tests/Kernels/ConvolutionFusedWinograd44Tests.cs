using System.Runtime.Intrinsics.X86;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The fused Winograd F(4x4, 3x3) (<see cref="ConvolutionFusedWinograd44"/>) against the plain loops, on 1 and 2 threads
/// (bit-identical), per output within Slack * 2^-24 * (|b| + sum over the window of |w| |x|), the slack
/// <see cref="ConvolutionWinogradTests"/> holds F(4x4, 3x3) to. AVX-512 only: the tests return at once on other machines.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionFusedWinograd44Tests
{
    private const double Slack = 256;

    private static bool Has512 => SimdWidth.Hardware >= 512 && Avx512F.IsSupported;

    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 3, 3, 1, 1, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stage 1, 32x32, pad 1", G(3, 16, 32, 32, 16, 1) },
        { "pad 0, 5x32 output (one tile row and a row)", G(2, 16, 7, 34, 16, 0) },
        { "pad 2, 11x32 (a last block overlapping)", G(2, 16, 9, 30, 16, 2) },
        { "C odd and small, K = 32, 6 rows", G(2, 5, 6, 32, 32, 1) },
        { "N = 1, C = 33, 12 rows", G(1, 33, 12, 32, 16, 1) },
        { "pad 2 on rows, 0 on columns", new Conv2dGeometry(2, 16, 6, 34, 16, 3, 3, 1, 1, 2, 0, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesTheReference(string name, Conv2dGeometry g)
    {
        if (!Has512) return;
        Assert.True(ConvolutionFusedWinograd44.Supports(g), name);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        foreach (bool relu in new[] { false, true })
            foreach (float[] b in new[] { bias, [] })
            {
                float[] expected = new float[g.OutputLength];
                ConvolutionReference.Forward(g, x, w, b, expected);
                if (relu) Activations.ReluForward(expected, expected);
                float[] scale = ConvolutionWinogradTests.WindowScale(g, x, w, b);
                float[] one = ConvolutionWinogradTests.Run(g.OutputLength, 512, 1, y => Forward(g, x, w, b, y, relu));
                float[] two = ConvolutionWinogradTests.Run(g.OutputLength, 512, 2, y => Forward(g, x, w, b, y, relu));
                AssertWithin(expected, one, scale, $"{name}, relu {relu}, bias {b.Length > 0}");
                KernelTestUtil.AssertBitIdentical(one, two, $"{name}, 1 and 2 threads");
            }
    }

    public static readonly TheoryData<string, Conv2dGeometry> BackwardGeometries = new()
    {
        { "ResNet-20 stage 1, pad 1", G(2, 16, 32, 32, 16, 1) },
        { "pad 0, 13x32 (dy 11x30, read with pad 2)", G(2, 16, 13, 32, 16, 0) },
        { "pad 2, 9x32, C = 32, K odd", G(2, 32, 9, 32, 7, 2) },
        { "N = 1, 6 rows", G(1, 16, 6, 32, 16, 1) },
    };

    [Theory]
    [MemberData(nameof(BackwardGeometries))]
    public void BackwardDataMatchesTheReference(string name, Conv2dGeometry g)
    {
        if (!Has512) return;
        Assert.True(ConvolutionFusedWinograd44.SupportsBackwardData(g), name);
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5);
        float[] expected = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, dy, w, expected);
        float[] scale = new float[g.InputLength];
        ConvolutionReference.BackwardData(g, ConvolutionWinogradTests.Abs(dy), ConvolutionWinogradTests.Abs(w), scale);
        float[] one = ConvolutionWinogradTests.Run(g.InputLength, 512, 1, dx => BackwardData(g, dy, w, dx));
        float[] two = ConvolutionWinogradTests.Run(g.InputLength, 512, 2, dx => BackwardData(g, dy, w, dx));
        AssertWithin(expected, one, scale, $"{name}, backward-data");
        KernelTestUtil.AssertBitIdentical(one, two, $"{name}, backward-data on 1 and 2 threads");
    }

    [Fact]
    public void RunsForResNetsSixteenChannelLayersOnly()
    {
        Conv2dGeometry resnet = G(128, 16, 32, 32, 16, 1);
        KernelTestUtil.With(512, null, () =>
        {
            Assert.Equal(Has512, ConvolutionFusedWinograd44.Applies(resnet));
            Assert.Equal(Has512, ConvolutionFusedWinograd44.AppliesToBackwardData(resnet));
            Assert.False(ConvolutionFusedWinograd44.Applies(G(128, 32, 16, 16, 32, 1)));   // 32 channels: ConvolutionWinograd
            Assert.False(ConvolutionFusedWinograd44.Supports(G(2, 16, 32, 64, 16, 1)));    // rows of 64 pixels: 8 tiles a row only
            Assert.False(ConvolutionFusedWinograd44.Supports(G(2, 16, 4, 32, 16, 1)));     // 4 output rows: one tile row
            Assert.False(ConvolutionFusedWinograd44.Applies(G(1, 16, 32, 32, 16, 1)));     // one image: one thread
            Assert.False(ConvolutionFusedWinograd44.Supports(new Conv2dGeometry(2, 16, 32, 32, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1)));   // stride 2
            Assert.False(ConvolutionFusedWinograd44.SupportsBackwardData(G(2, 16, 32, 32, 16, 3)));   // pad 3
        });
        KernelTestUtil.With(256, null, () => Assert.False(ConvolutionFusedWinograd44.Applies(resnet)));   // AVX2: ConvolutionWinograd
    }

    private static unsafe void Forward(Conv2dGeometry g, float[] x, float[] w, float[] b, float[] y, bool relu)
    {
        fixed (float* px = x, pw = w, pb = b, py = y) ConvolutionFusedWinograd44.Forward(g, px, pw, b.Length != 0 ? pb : null, py, relu);
    }

    private static unsafe void BackwardData(Conv2dGeometry g, float[] dy, float[] w, float[] dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx) ConvolutionFusedWinograd44.BackwardData(g, pdy, pw, pdx);
    }

    private static void AssertWithin(float[] expected, float[] actual, float[] scale, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Slack * Math.Pow(2, -24) * scale[i] + 1e-30;
            double diff = Math.Abs(expected[i] - (double)actual[i]);
            if (!(diff <= tolerance))
                Assert.Fail($"{what}: index {i} expected {expected[i]:R} got {actual[i]:R} (diff {diff:E2}, tolerance {tolerance:E2})");
        }
    }
}
