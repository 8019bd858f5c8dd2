using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The chunked dot-product weight gradient: its packing against plain loops, its sums against the reference.</summary>
[Collection("KernelSettings")]
public unsafe class ConvolutionWeightGradientTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups) =>
        new(n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups);

    // Awkward shapes: sizes 1 and primes, depth > 256, several slabs (N*OH*OW >= 2048), planes larger than a
    // chunk (cut into row pieces), planes not a multiple of 16, strides, padding, dilation, groups, 1x1.
    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "1x1x1 everything", G(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1) },
        { "LeNet conv2 batch 37 (slabs)", G(37, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "LeNet conv1 batch 9", G(9, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1) },
        { "depth 333 K 7 prime plane", G(5, 37, 11, 13, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "plane larger than a chunk", G(2, 3, 61, 53, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
        { "one wide output row", G(1, 2, 1, 3001, 3, 1, 3, 1, 1, 0, 1, 1, 1, 1) },
        { "stride 2 pad 2 dilation 2", G(6, 4, 17, 19, 9, 3, 3, 2, 2, 2, 2, 2, 2, 1) },
        { "asymmetric stride pad dilation", G(4, 3, 23, 14, 11, 3, 5, 3, 2, 1, 3, 2, 1, 1) },
        { "groups 3 K 13x3", G(7, 6, 15, 15, 39, 3, 3, 1, 1, 1, 1, 1, 1, 3) },
        { "depthwise stride 2", G(9, 5, 20, 20, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5) },
        { "pointwise depth 257", G(4, 257, 9, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1) },
        { "pointwise groups 2 large plane", G(2, 4, 50, 50, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2) },
        { "1x1 stride 2", G(3, 5, 9, 9, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1) },
        { "kernel larger than padded rows", G(3, 2, 4, 30, 4, 4, 7, 1, 1, 0, 3, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 11), dy = KernelTestUtil.Random((int)g.OutputLength, 12);
        float[] expected = new float[g.WeightLength], expectedBias = new float[g.OutChannels];
        ConvolutionReference.BackwardWeights(g, x, dy, expected, expectedBias);
        int pixels = g.Batch * g.OutHeight * g.OutWidth;
        foreach (int width in KernelTestUtil.Widths)
        {
            if (width > SimdWidth.Hardware) continue;
            foreach (int threads in new[] { 1, 2 })
            {
                float[] actual = new float[g.WeightLength], actualBias = new float[g.OutChannels];
                Array.Fill(actual, float.NaN);
                Array.Fill(actualBias, float.NaN);
                KernelTestUtil.With(width, threads, () => Convolution.BackwardWeights(g, x, dy, actual, actualBias));
                string what = $"{name} width={width} threads={threads}";
                KernelTestUtil.AssertClose(expected, actual, 1e-6 * (pixels + 1), 1e-5, $"dWeight {what}");
                KernelTestUtil.AssertClose(expectedBias, actualBias, 1e-6 * (pixels + 1), 1e-5, $"dBias {what}");
            }
        }
    }

    [Theory]
    [InlineData(64, 20, 12, 12, 50, 5, 1)]   // LeNet conv2: several slabs
    [InlineData(1, 16, 30, 30, 24, 3, 1)]    // batch 1: one slab, columns split between threads
    [InlineData(3, 12, 40, 40, 10, 3, 2)]    // two slabs of uneven images, groups
    public void BitIdenticalForAnyThreadCount(int n, int c, int h, int w, int k, int kernel, int groups)
    {
        var g = G(n, c, h, w, k, kernel, kernel, 1, 1, 1, 1, 1, 1, groups);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 21), dy = KernelTestUtil.Random((int)g.OutputLength, 22);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3, 5 })
        {
            float[] dw = new float[g.WeightLength];
            KernelTestUtil.With(null, threads, () => Convolution.BackwardWeights(g, x, dy, dw, []));
            if (first is null) first = dw;
            else KernelTestUtil.AssertBitIdentical(first, dw, $"dWeight with {threads} threads vs 1");
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void UnfoldRowsMatchesDefinition(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 31);
        int depth = g.GroupInChannels * g.KernelHeight * g.KernelWidth, ow = g.OutWidth;
        foreach (var (n, count, oy0, oy1) in Segments(g))
        foreach (int d0 in new[] { 0, Math.Max(0, depth - 3) })
        {
            const int nr = 5;
            int run = (oy1 - oy0) * ow, pixels = count * run, ld = (pixels + 15) / 16 * 16 + 16;
            float[] dst = new float[nr * ld];
            Array.Fill(dst, float.NaN);
            int grp = g.Groups - 1;
            fixed (float* px = x, pd = dst)
                ConvolutionWeightGradient.UnfoldRows(g, px, grp, n, count, oy0, oy1, d0, nr, pd, ld);
            for (int j = 0; j < nr; j++)
            for (int p = 0; p < (pixels + 15) / 16 * 16; p++)
            {
                float expected = 0f;
                int d = d0 + j;
                if (d < depth && p < pixels)
                {
                    int img = n + p / run, pix = oy0 * ow + p % run;
                    int c = d / (g.KernelHeight * g.KernelWidth), kh = d / g.KernelWidth % g.KernelHeight, kw = d % g.KernelWidth;
                    int ih = pix / ow * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                    int iw = pix % ow * g.StrideWidth - g.PadWidth + kw * g.DilationWidth;
                    if (ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth)
                        expected = x[((img * g.InChannels + grp * g.GroupInChannels + c) * g.InHeight + ih) * g.InWidth + iw];
                }
                Assert.True(expected.Equals(dst[j * ld + p]), $"{name} segment ({n}, {count}, {oy0}..{oy1}) row {d0 + j} pixel {p}: expected {expected} got {dst[j * ld + p]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void GatherDyMatchesDefinition(string name, Conv2dGeometry g)
    {
        float[] dy = KernelTestUtil.Random((int)g.OutputLength, 41);
        int kg = g.GroupOutChannels, ow = g.OutWidth, ohw = g.OutHeight * ow, rows = kg + 3;
        foreach (var (n, count, oy0, oy1) in Segments(g))
        {
            int run = (oy1 - oy0) * ow, pixels = count * run, ld = (pixels + 15) / 16 * 16;
            float[] dst = new float[rows * ld];
            Array.Fill(dst, float.NaN);
            int grp = g.Groups - 1;
            fixed (float* pdy = dy, pd = dst)
                ConvolutionWeightGradient.GatherDy(g, pdy, grp, n, count, oy0, oy1, rows, pd, ld);
            for (int k = 0; k < rows; k++)
            for (int p = 0; p < ld; p++)
            {
                float expected = k < kg && p < pixels
                    ? dy[((n + p / run) * g.OutChannels + grp * kg + k) * ohw + oy0 * ow + p % run]
                    : 0f;
                Assert.True(expected.Equals(dst[k * ld + p]), $"{name} segment ({n}, {count}, {oy0}..{oy1}) row {k} pixel {p}: expected {expected} got {dst[k * ld + p]}");
            }
        }
    }

    [Fact]
    public void ChunksAreWholeImagesOrRowPiecesOfAboutTheirSize()
    {
        foreach (var g in Geometries.Select(row => (Conv2dGeometry)row[1]))
        foreach (int chunk in new[] { 16, 256, 2048 })
        {
            (int perChunk, int rowsPerPiece) = ConvolutionWeightGradient.Chunking(g, chunk);
            int ow = g.OutWidth, ohw = g.OutHeight * ow;
            string what = $"{g} chunk {chunk}: {perChunk} images x {rowsPerPiece} rows";
            Assert.True(perChunk >= 1 && rowsPerPiece >= 1 && rowsPerPiece <= g.OutHeight, what);
            if (ohw <= chunk) Assert.True(rowsPerPiece == g.OutHeight && perChunk * ohw <= chunk, what);
            else Assert.True(perChunk == 1 && rowsPerPiece < g.OutHeight + 1 && rowsPerPiece * ow <= chunk + ow, what);
        }
    }

    /// <summary>Chunks as the kernel cuts them, plus a few odd ones: (first image, images, output rows oy0 .. oy1).</summary>
    private static IEnumerable<(int N, int Count, int Oy0, int Oy1)> Segments(Conv2dGeometry g)
    {
        int oh = g.OutHeight;
        yield return (0, 1, 0, oh);
        yield return (g.Batch - 1, 1, oh / 2, oh);
        if (g.Batch > 1) yield return (1, g.Batch - 1, 0, oh);
        if (oh > 2) yield return (0, 1, 1, oh - 1);
    }
}
