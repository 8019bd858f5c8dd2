using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The kept direct packing (<see cref="DirectWeightCache"/>) and the batch-1 split by output channels
/// (<see cref="ConvolutionDirect.SplitsRows"/>): the same bits as the uncached direct path, as that image inside a batch
/// of two (split by panels), on 1 and 2 threads, with AVX-512 and AVX2, close to the reference; a weight written in place
/// is seen on the next call.
/// </summary>
[Collection("KernelSettings")]
public class DirectWeightCacheTests
{
    private static readonly int[] Widths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry G(int c, int h, int w, int k, int kernel, int stride, int pad) =>
        new(1, c, h, w, k, kernel, kernel, stride, stride, pad, pad, 1, 1, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "ResNet-20 stage 3, 64->64 8x8", G(64, 8, 8, 64, 3, 1, 1) },
        { "ResNet-20 32->64 stride 2", G(32, 16, 16, 64, 3, 2, 1) },
        { "ResNet-20 16->32 stride 2", G(16, 32, 32, 32, 3, 2, 1) },
        { "ResNet-20 stem 3->16 32x32", G(3, 32, 32, 16, 3, 1, 1) },
        { "1x1 stride 2 shortcut 16->32", G(16, 32, 32, 32, 1, 2, 0) },
        { "20 channels (10-row tiles), part-filled last panel 5x8", G(8, 5, 8, 20, 3, 1, 1) },
        { "odd K 37 (last tile part-filled), 16x16", G(12, 16, 16, 37, 3, 1, 1) },
        { "pad 0 unpadded 18x18 -> 16x16", G(16, 18, 18, 24, 3, 1, 0) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesTheDirectPathBitForBitAndTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2, 0.2f);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        float[] reference = new float[g.OutputLength];
        ConvolutionReference.Forward(g, x, w, bias, reference);
        Activations.ReluForward(reference, reference);
        var pair = g with { Batch = 2 };
        float[] x2 = [.. x, .. KernelTestUtil.Random((int)g.InputLength, 4)];
        foreach (int width in Widths)
        {
            bool applies = false;
            KernelTestUtil.With(width, 1, () => applies = DirectWeightCache.Applies(g));
            if (!applies) continue;
            var cache = new DirectWeightCache();
            float[] direct = Run(g, width, 1, y => DirectForward(g, x, w, bias, y, true));
            float[] direct2 = Run(g, width, 2, y => DirectForward(g, x, w, bias, y, true));
            float[] inPair = Run(pair, width, 2, y => DirectForward(pair, x2, w, bias, y, true))[..(int)g.OutputLength];
            float[] one = Run(g, width, 1, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            float[] again = Run(g, width, 1, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            float[] two = Run(g, width, 2, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            float[] twoAgain = Run(g, width, 2, y => Assert.True(cache.TryForward(g, x, w, bias, y, true)));
            KernelTestUtil.AssertBitIdentical(direct, direct2, $"{name}, width {width}: uncached, 1 and 2 threads");
            KernelTestUtil.AssertBitIdentical(inPair, direct, $"{name}, width {width}: split by rows vs by panels (batch 2)");
            KernelTestUtil.AssertBitIdentical(direct, one, $"{name}, width {width}: kept packing vs direct");
            KernelTestUtil.AssertBitIdentical(one, again, $"{name}, width {width}: second call (cache hit)");
            KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}: 1 and 2 threads");
            KernelTestUtil.AssertBitIdentical(one, twoAgain, $"{name}, width {width}: 2 threads, cache hit");
            KernelTestUtil.AssertClose(reference, one, 2e-4, 2e-4, $"{name}, width {width}: vs reference");
        }
    }

    [Fact]
    public void AWeightWrittenInPlaceIsSeen()
    {
        var g = G(64, 8, 8, 64, 3, 1, 1);
        if (!DirectWeightCache.Applies(g)) return;   // no AVX2 here
        float[] x = KernelTestUtil.Random((int)g.InputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5, 0.2f);
        var cache = new DirectWeightCache();
        float[] y = new float[g.OutputLength], expected = new float[g.OutputLength];
        Assert.True(cache.TryForward(g, x, w, [], y, false));
        Assert.True(cache.Holds);
        w[^1] += 0.5f;   // the last weight: one bit of the copy to notice
        Assert.True(cache.TryForward(g, x, w, [], y, false));
        DirectForward(g, x, w, [], expected, false);
        KernelTestUtil.AssertBitIdentical(expected, y, "after writing weight[^1]");
        var other = g with { InHeight = 16, InWidth = 16 };   // same weights, another image size: packed again for it
        float[] y2 = new float[other.OutputLength], expected2 = new float[other.OutputLength];
        float[] x2 = KernelTestUtil.Random((int)other.InputLength, 6);
        Assert.True(cache.TryForward(other, x2, w, [], y2, false));
        DirectForward(other, x2, w, [], expected2, false);
        KernelTestUtil.AssertBitIdentical(expected2, y2, "another image size");
    }

    [Fact]
    public void DoesNotApplyBeyondBatchOneOrWhereWinogradRuns()
    {
        Assert.False(DirectWeightCache.Applies(G(64, 8, 8, 64, 3, 1, 1) with { Batch = 2 }));
        Assert.False(DirectWeightCache.Applies(G(16, 16, 16, 16, 1, 1, 0)));   // pointwise: GEMM
        var g = G(64, 8, 8, 64, 3, 1, 1);
        float[] x = new float[g.InputLength], w = new float[g.WeightLength], y = new float[g.OutputLength];
        foreach (int width in new[] { 128, 0 })
            KernelTestUtil.With(width, null, () => Assert.False(new DirectWeightCache().TryForward(g, x, w, [], y, false)));
    }

    /// <summary>An evaluation-mode Conv2d keeps the packing (through its Winograd cache), sees a weight write, and agrees with training mode.</summary>
    [Fact]
    public void Conv2dInEvaluationModeFollowsItsWeights()
    {
        if (!DirectWeightCache.Applies(G(32, 8, 8, 32, 3, 1, 1))) return;
        bool winogradKept = WinogradWeightCache.Enabled;
        WinogradWeightCache.Enabled = false;   // else it takes 8x8's 4 tiles on AVX-512
        try
        {
            var conv = new Conv2d(32, 32, 3, padding: 1, generator: new Generator(7));
            var input = Tensor.Rand(new Generator(8), 1, 32, 8, 8);
            conv.Eval();
            conv.Forward(input);
            conv.Weight.AsSpan()[100] += 1f;
            var evaluated = conv.Forward(input).ToArray();
            conv.Train();
            var trained = conv.Forward(input).ToArray();
            KernelTestUtil.AssertBitIdentical(trained, evaluated, "evaluation (kept packing) vs training mode after a weight write");
        }
        finally { WinogradWeightCache.Enabled = winogradKept; }
    }

    private static unsafe void DirectForward(in Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, bool relu)
    {
        fixed (float* px = x, pw = w, pb = bias, py = y) ConvolutionDirect.Forward(g, px, pw, bias.Length == 0 ? null : pb, py, relu);
    }

    private static float[] Run(in Conv2dGeometry g, int width, int threads, Action<float[]> body)
    {
        float[] y = new float[g.OutputLength];
        KernelTestUtil.With(width, threads, () => body(y));
        return y;
    }
}
