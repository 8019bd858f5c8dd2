using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class ConvolutionTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups) =>
        new(n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "1x1", G(2, 5, 7, 6, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1) },
        { "1x1 groups 2 batch 3", G(3, 6, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2) },
        { "1x1 stride 2", G(2, 3, 7, 7, 5, 1, 1, 2, 2, 0, 0, 1, 1, 1) },
        { "1x1 pad 1", G(1, 3, 4, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1) },
        { "3x3 pad 1 batch 3", G(3, 3, 11, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "5x5 batch 1", G(1, 2, 13, 12, 7, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "3x2 kernel", G(2, 4, 9, 10, 3, 3, 2, 1, 1, 1, 0, 1, 1, 1) },
        { "stride 2 pad 1", G(3, 3, 15, 13, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1) },
        { "asymmetric stride and pad", G(2, 3, 14, 11, 5, 3, 5, 2, 3, 1, 2, 1, 1, 1) },
        { "dilation 2", G(2, 3, 12, 13, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1) },
        { "groups 2", G(2, 4, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2) },
        { "depthwise stride 2x1", G(3, 5, 10, 7, 5, 3, 3, 2, 1, 1, 1, 1, 1, 5) },
        { "depthwise x2 dilation 1x2", G(1, 3, 8, 11, 6, 3, 3, 1, 1, 1, 2, 1, 2, 3) },
        { "kernel as large as the input", G(2, 2, 5, 4, 3, 5, 4, 1, 1, 0, 0, 1, 1, 1) },
        { "blocked GEMM batch 2", G(2, 16, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "blocked GEMM batch 1 odd", G(1, 8, 23, 19, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "blocked 1x1 batch 3", G(3, 37, 17, 13, 29, 1, 1, 1, 1, 0, 0, 1, 1, 1) },
        { "LeNet conv2 batch 11 (odd batch over two threads)", G(11, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "stride 2 pad 1 batch 13", G(13, 3, 9, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1) },
        { "7x7 pad 3, 300 outputs (two reduction blocks in backward-data)", G(2, 3, 15, 10, 300, 7, 7, 1, 1, 3, 3, 1, 1, 1) },
        { "dilation 2 narrow", G(2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 2, 2, 2, 1) },
        // Panels read straight from the image (10-row tiles, stride 1, no padding): 8-wide rows over two depth
        // blocks, 16-wide rows with dilation, 48-wide rows with a partial last panel.
        { "8-wide rows read directly, two depth blocks", G(2, 12, 12, 12, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "16-wide rows read directly, dilation 2", G(2, 3, 20, 20, 10, 3, 3, 1, 1, 0, 0, 2, 2, 1) },
        { "48-wide rows, partial last panel", G(1, 2, 7, 50, 9, 3, 3, 1, 1, 0, 0, 1, 1, 1) },
        { "LeNet conv1 batch 3 (24-wide rows: vectors split across rows)", G(3, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "40-wide rows, dilation 2", G(1, 2, 8, 44, 10, 3, 3, 1, 1, 0, 0, 2, 2, 1) },
    };

    public static readonly TheoryData<string, Conv2dGeometry> ThreadGeometries = new()
    {
        { "3x3 batch 3", G(3, 3, 11, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "blocked batch 2", G(2, 16, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "blocked batch 1", G(1, 8, 23, 19, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "depthwise", G(3, 5, 10, 7, 5, 3, 3, 2, 1, 1, 1, 1, 1, 5) },
        { "1x1 batch 5", G(5, 37, 17, 13, 29, 1, 1, 1, 1, 0, 0, 1, 1, 1) },
        { "groups 2 batch 11", G(11, 4, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2) },
        { "3x3 no padding batch 19", G(19, 7, 10, 9, 11, 3, 3, 1, 1, 0, 0, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReference(string name, Conv2dGeometry g)
    {
        foreach (int width in new[] { SimdWidth.Hardware, 128 })
            KernelTestUtil.With(width, null, () => CompareWithReference(name, g));
    }

    [Fact]
    public void ScalarPathMatchesReference()
    {
        KernelTestUtil.With(0, null, () => CompareWithReference("stride 2 pad 1, scalar", G(3, 3, 15, 13, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1)));
        KernelTestUtil.With(256, null, () => CompareWithReference("blocked, 256", G(2, 16, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
    }

    [Theory]
    [MemberData(nameof(ThreadGeometries))]
    public void BitIdenticalForOneAndTwoThreads(string name, Conv2dGeometry g)
    {
        var (one, oneDx, oneDw, oneDb) = RunAll(g, 1);
        var (two, twoDx, twoDw, twoDb) = RunAll(g, 2);
        KernelTestUtil.AssertBitIdentical(one, two, $"{name} forward");
        KernelTestUtil.AssertBitIdentical(oneDx, twoDx, $"{name} backward data");
        KernelTestUtil.AssertBitIdentical(oneDw, twoDw, $"{name} backward weights");
        KernelTestUtil.AssertBitIdentical(oneDb, twoDb, $"{name} backward bias");
    }

    [Fact]
    public void ForwardWithoutBiasAndBackwardWithoutBiasGradient()
    {
        var g = G(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] expected = new float[g.OutputLength], actual = new float[g.OutputLength];
        ConvolutionReference.Forward(g, x, w, [], expected);
        Convolution.Forward(g, x, w, [], actual);
        KernelTestUtil.AssertClose(expected, actual, 1e-5, 1e-5, "forward without bias");
        float[] dw = new float[g.WeightLength], dwRef = new float[g.WeightLength];
        ConvolutionReference.BackwardWeights(g, x, actual, dwRef, []);
        Convolution.BackwardWeights(g, x, actual, dw, []);
        KernelTestUtil.AssertClose(dwRef, dw, 1e-4, 1e-5, "backward weights without bias");
    }

    [Fact]
    public void WrongBufferLengthThrows()
    {
        var g = G(1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        var e = Assert.Throws<ArgumentException>(() => Convolution.Forward(g, new float[50], new float[54], [], new float[26]));
        Assert.Contains("y", e.Message);
    }

    private static (float[] Y, float[] Dx, float[] DWeight, float[] DBias) RunAll(Conv2dGeometry g, int threads)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3), dy = KernelTestUtil.Random((int)g.OutputLength, 4);
        float[] y = new float[g.OutputLength], dx = new float[g.InputLength], dw = new float[g.WeightLength], db = new float[g.OutChannels];
        KernelTestUtil.With(null, threads, () =>
        {
            Convolution.Forward(g, x, w, bias, y);
            Convolution.BackwardData(g, dy, w, dx);
            Convolution.BackwardWeights(g, x, dy, dw, db);
        });
        return (y, dx, dw, db);
    }

    private static void CompareWithReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3), dy = KernelTestUtil.Random((int)g.OutputLength, 4);
        string what = $"{name} {g} width={SimdWidth.Max}";
        int depth = g.GroupInChannels * g.KernelHeight * g.KernelWidth;
        int reach = g.GroupOutChannels * g.KernelHeight * g.KernelWidth;
        int pixels = g.Batch * g.OutHeight * g.OutWidth;

        // Forward: sums of `depth` products of values in [-1, 1].
        float[] expected = Fill((int)g.OutputLength), actual = Fill((int)g.OutputLength);
        ConvolutionReference.Forward(g, x, w, bias, expected);
        Convolution.Forward(g, x, w, bias, actual);
        KernelTestUtil.AssertClose(expected, actual, 1e-6 * (depth + 1), 1e-5, $"forward {what}");

        // Backward data: sums of at most K/groups*KH*KW products; dx is overwritten.
        expected = Fill((int)g.InputLength);
        actual = Fill((int)g.InputLength);
        ConvolutionReference.BackwardData(g, dy, w, expected);
        Convolution.BackwardData(g, dy, w, actual);
        KernelTestUtil.AssertClose(expected, actual, 1e-6 * (reach + 1), 1e-5, $"backward data {what}");

        // Backward weights and bias: sums over every output pixel of the batch; both overwritten.
        expected = Fill((int)g.WeightLength);
        actual = Fill((int)g.WeightLength);
        float[] expectedBias = Fill(g.OutChannels), actualBias = Fill(g.OutChannels);
        ConvolutionReference.BackwardWeights(g, x, dy, expected, expectedBias);
        Convolution.BackwardWeights(g, x, dy, actual, actualBias);
        KernelTestUtil.AssertClose(expected, actual, 1e-6 * (pixels + 1), 1e-5, $"backward weights {what}");
        KernelTestUtil.AssertClose(expectedBias, actualBias, 1e-6 * (pixels + 1), 1e-5, $"backward bias {what}");
    }

    private static float[] Fill(long length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }
}
