using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The kept Winograd transform (<see cref="WinogradWeightCache"/>): the same bits as <see cref="ConvolutionWinograd.Forward"/>
/// (whose error against <see cref="ConvolutionReference"/> ConvolutionWinogradTests bounds), close to the reference, the
/// same on 1 and 2 threads, with AVX-512 and AVX2; a weight written in place is seen on the next call; no SIMD, no cache.
/// </summary>
[Collection("KernelSettings")]
public class WinogradWeightCacheTests
{
    private static readonly int[] Widths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int pad) => new(n, c, h, w, k, 3, 3, 1, 1, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stage 1, batch 1", G(1, 16, 32, 32, 16, 1) },
        { "ResNet-20 stage 2, batch 1", G(1, 32, 16, 16, 32, 1) },
        { "ResNet-20 stage 3, batch 1 (4 tiles: 4-row kernels on AVX-512)", G(1, 64, 8, 8, 64, 1) },
        { "7x7, 80 output channels (4 tiles, edges cut; a 64-column and a 16-column pass)", G(1, 16, 7, 7, 80, 1) },
        { "odd 17x15 (edge tiles cut), batch 1", G(1, 16, 17, 15, 32, 1) },
        { "pad 0, 18x19, batch 1", G(1, 32, 18, 19, 16, 0) },
        { "batch 4, 8x8 planes (16 tiles)", G(4, 48, 8, 8, 16, 1) },
        { "5x5 kernel, F(4x4, 5x5), cifar10 conv3's planes, batch 1 (4 tiles)", new Conv2dGeometry(1, 32, 8, 8, 64, 5, 5, 1, 1, 2, 2, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesWinogradBitForBitAndTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2, 0.2f);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        float[] reference = new float[g.OutputLength];
        ConvolutionReference.Forward(g, x, w, bias, reference);
        Activations.ReluForward(reference, reference);
        foreach (int width in Widths)
        {
            bool applies = false;
            KernelTestUtil.With(width, null, () => applies = WinogradWeightCache.Applies(g));
            if (!applies) continue;   // 4 tiles: AVX-512 only
            var cache = new WinogradWeightCache();
            float[] winograd = Run(g, width, 1, y => WinogradForward(g, x, w, bias, y, true));
            float[] one = Run(g, width, 1, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            float[] again = Run(g, width, 1, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            float[] two = Run(g, width, 2, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            KernelTestUtil.AssertBitIdentical(winograd, one, $"{name}, width {width}: kept transform vs Winograd");
            KernelTestUtil.AssertBitIdentical(one, again, $"{name}, width {width}: second call (cache hit)");
            KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}: 1 and 2 threads");
            KernelTestUtil.AssertClose(reference, one, 2e-4, 2e-4, $"{name}, width {width}: vs reference");
        }
    }

    [Fact]
    public void AWeightWrittenInPlaceIsSeen()
    {
        var g = G(1, 16, 16, 16, 16, 1);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5, 0.2f);
        var cache = new WinogradWeightCache();
        float[] y = new float[g.OutputLength], expected = new float[g.OutputLength];
        Assert.True(cache.TryForward(g, x, w, [], y, false));
        w[^1] += 0.5f;   // the last weight of the last (k, c) pair: one bit of the copy to notice
        Assert.True(cache.TryForward(g, x, w, [], y, false));
        WinogradForward(g, x, w, [], expected, false);
        KernelTestUtil.AssertBitIdentical(expected, y, "after writing weight[^1]");
    }

    [Fact]
    public void DoesNotApplyWithoutSimdOrWholeChannelBlocksOrEnoughTiles()
    {
        var g = G(1, 16, 16, 16, 16, 1);
        float[] x = new float[g.InputLength], w = new float[g.WeightLength], y = new float[g.OutputLength];
        foreach (int width in new[] { 128, 0 })
            KernelTestUtil.With(width, null, () => Assert.False(new WinogradWeightCache().TryForward(g, x, w, [], y, false)));
        Assert.False(WinogradWeightCache.Applies(G(1, 24, 16, 16, 16, 1)));    // C not a multiple of 16
        Assert.False(WinogradWeightCache.Applies(G(1, 64, 12, 12, 64, 1)));    // 9 tiles: 5-15 would run micro-tiles of 12 rows mostly empty
        Assert.Equal(SimdWidth.Max >= 512, WinogradWeightCache.Applies(G(1, 64, 8, 8, 64, 1)));   // 4 tiles: the 4-row kernels, AVX-512 only
        Assert.False(WinogradWeightCache.Applies(new Conv2dGeometry(1, 16, 16, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1)));   // stride 2
    }

    /// <summary>An evaluation-mode Conv2d keeps the transform, sees a weight written through its Parameter, and agrees with training mode.</summary>
    [Fact]
    public void Conv2dInEvaluationModeFollowsItsWeights()
    {
        if (!WinogradWeightCache.Applies(G(1, 16, 16, 16, 16, 1))) return;   // no AVX2 here: the module runs the plain paths
        var conv = new Conv2d(16, 16, 3, padding: 1, generator: new Generator(7));
        var input = Tensor.Rand(new Generator(8), 1, 16, 16, 16);
        conv.Eval();
        var first = conv.ForwardRelu(input).ToArray();
        conv.Weight.AsSpan()[100] += 1f;
        var evaluated = conv.Forward(input).ToArray();
        conv.Train();
        var trained = conv.Forward(input).ToArray();
        float[] expected = new float[trained.Length];
        var g = G(1, 16, 16, 16, 16, 1);
        ConvolutionReference.Forward(g, input.ToArray(), conv.Weight.ToArray(), conv.Bias!.ToArray(), expected);
        KernelTestUtil.AssertClose(expected, evaluated, 2e-4, 2e-4, "evaluation mode after a weight write");
        KernelTestUtil.AssertClose(trained, evaluated, 2e-4, 2e-4, "evaluation vs training mode");
        // The kept transform ran (Winograd's bits on the written weights), not the plain path training mode takes here.
        float[] winograd = new float[expected.Length];
        WinogradForward(g, input.ToArray(), conv.Weight.ToArray(), conv.Bias!.ToArray(), winograd, false);
        KernelTestUtil.AssertBitIdentical(winograd, evaluated, "evaluation mode vs Winograd on the written weights");
        Assert.NotEqual(trained, evaluated);
        Assert.Contains(first, v => v == 0f);   // the ReLU ran
    }

    /// <summary>Train() lets the kept transform go (it is about 5x the weights); the next evaluation forward makes it again.</summary>
    [Fact]
    public void Conv2dLetsTheTransformGoWhenItTrains()
    {
        if (!WinogradWeightCache.Applies(G(1, 16, 16, 16, 16, 1))) return;   // no AVX2 here: nothing is ever kept
        var conv = new Conv2d(16, 16, 3, padding: 1, generator: new Generator(7));
        var input = Tensor.Rand(new Generator(8), 1, 16, 16, 16);
        Assert.False(conv.KeepsWinogradWeights);
        conv.Eval();
        var before = conv.Forward(input).ToArray();
        Assert.True(conv.KeepsWinogradWeights);
        new Sequential(conv).Train();   // through a container, as a user's model would
        Assert.False(conv.KeepsWinogradWeights);
        conv.Forward(input);
        Assert.False(conv.KeepsWinogradWeights);   // training forwards never keep one
        conv.Eval();
        KernelTestUtil.AssertBitIdentical(before, conv.Forward(input).ToArray(), "evaluation forward after a round trip through training");
        Assert.True(conv.KeepsWinogradWeights);
    }

    private static unsafe void WinogradForward(in Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, bool relu)
    {
        fixed (float* px = x, pw = w, pb = bias, py = y) ConvolutionWinograd.Forward(g, px, pw, bias.Length == 0 ? null : pb, py, relu);
    }

    private static float[] Run(in Conv2dGeometry g, int width, int threads, Action<float[]> body)
    {
        float[] y = new float[g.OutputLength];
        KernelTestUtil.With(width, threads, () => body(y));
        return y;
    }
}
