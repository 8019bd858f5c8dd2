using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The direct convolution (panels read straight from a zero-bordered copy of the image, backward-data as the flipped
/// forward, the weight gradient from broadcast input values) against the plain loops, the packed path, and itself on 1
/// and 2 threads, with AVX-512 and with AVX2.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionDirectTests
{
    // The widths with a direct path that this machine runs.
    private static readonly int[] DirectWidths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int ph, int pw, int dh = 1, int dw = 1) =>
        new(n, c, h, w, k, kh, kw, 1, 1, ph, pw, dh, dw, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "cifar10_quick conv2 shape (8-row tiles, 16-pixel rows, pad 2, depth 800)", G(3, 32, 16, 16, 32, 5, 5, 2, 2) },
        { "8x8 plane, 64 channels: output rows of 8, two per vector", G(2, 16, 8, 8, 64, 5, 5, 2, 2) },
        { "cifar10_quick conv1 shape (3 channels, 32-pixel rows: contiguous vectors)", G(2, 3, 32, 32, 32, 5, 5, 2, 2) },
        { "LeNet conv1 (10-row tiles, unpadded, read in place)", G(2, 1, 28, 28, 20, 5, 5, 0, 0) },
        { "13 channels (the last 8-row tile has 5)", G(2, 6, 10, 8, 13, 3, 3, 1, 1) },
        { "last panel part-filled (5 rows of 8: 40 pixels)", G(3, 4, 5, 8, 16, 3, 3, 1, 1) },
        { "unpadded, last panel part-filled: the image is copied", G(2, 3, 7, 10, 10, 3, 3, 0, 0) },
        { "dilation 2, padding below the kernel's reach (forward direct)", G(2, 5, 12, 10, 9, 3, 3, 1, 1, 2, 2) },
        { "dilation 2, padding below the kernel's reach (backward-data direct)", G(2, 8, 10, 16, 9, 3, 3, 1, 1, 2, 2) },
        { "padding only across, 1x5 kernel", G(2, 7, 6, 16, 16, 1, 5, 0, 2) },
        { "batch 1, 24-pixel rows", G(1, 8, 24, 24, 8, 3, 3, 1, 1) },
        // Output rows not a multiple of 16 wide with AVX-512, batch 1: one shifted copy per kernel column (ConvolutionDirectShifted)
        { "LeNet conv2, batch 1 (20->50, 12x12, 5x5: 8-pixel rows)", G(1, 20, 12, 12, 50, 5, 5, 0, 0) },
        { "LeNet conv2, batch 3 (shifted planes copied per image: 38 KB)", G(3, 20, 12, 12, 50, 5, 5, 0, 0) },
        { "LeNet conv1, batch 3 (24-pixel rows: shifted planes read straight from the unpadded image)", G(3, 1, 28, 28, 20, 5, 5, 0, 0) },
        { "cifar10_quick conv3, batch 2 (planes over 40 KB: two runs of 8)", G(2, 32, 8, 8, 64, 5, 5, 2, 2) },
        { "8-pixel rows, padding (2, 3), dilation 2", G(1, 6, 9, 6, 16, 3, 3, 2, 3, 2, 2) },
        { "40-pixel rows, 1x5 kernel, pad across only", G(1, 4, 3, 40, 20, 1, 5, 0, 2) },
        { "ResNet-20 stage 3, batch 1 (64->64, 8x8, pad 1)", G(1, 64, 8, 8, 64, 3, 3, 1, 1) },
        { "8-pixel rows from a 6-wide image, batch 1, pad 2 (windows reach both borders)", G(1, 5, 9, 6, 16, 3, 3, 2, 2) },
        // Strided: read from phase planes (ConvolutionDirectStrided)
        { "ResNet stride-2 3x3, 16->32, 32x32, pad 1", S(2, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1) },
        { "ResNet stride-2 1x1 shortcut (one plane of four read)", S(2, 16, 16, 16, 32, 1, 1, 2, 2, 0, 0) },
        { "batch 1, stride 2, 64 channels, 8x8 output", S(1, 32, 16, 16, 64, 3, 3, 2, 2, 1, 1) },
        { "stride (2, 1), odd height, dilation 2, pad 2", S(2, 5, 13, 16, 9, 3, 3, 2, 1, 2, 2, 2, 2) },
        { "stride (1, 2), odd width, 5x5, pad 2", S(2, 4, 6, 15, 16, 5, 5, 1, 2, 2, 2) },
        { "stride 2, unpadded, odd width 33 -> 16, 3 channels", S(1, 3, 17, 33, 16, 3, 3, 2, 2, 0, 0) },
        { "stride 2, 4x4 kernel (even: two taps a plane each way)", S(2, 6, 16, 16, 16, 4, 4, 2, 2, 1, 1) },
        { "stride 2, padding as wide as the image (6x6, pad 6: phase planes with no image column)", S(1, 16, 6, 6, 16, 3, 3, 2, 2, 6, 6) },
        { "stride 2, padding four times the image (2x2, pad 8)", S(1, 16, 2, 2, 16, 3, 3, 2, 2, 8, 8) },
        { "stride 2, 48-pixel rows (one 32-column and one 16-column run per row), pad 1", S(1, 3, 10, 48, 16, 3, 3, 2, 2, 1, 1) },
        { "stride 2, 46-pixel rows, pad 2 (evens to plane 0; a 14-column tail)", S(2, 4, 9, 46, 16, 3, 3, 2, 2, 2, 2) },
        { "stride 2, 1x1 kernel, pad 1 (one column phase: the odd columns), 29-pixel rows", S(1, 5, 9, 29, 16, 1, 1, 2, 2, 1, 1) },
    };

    private static Conv2dGeometry S(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh = 1, int dw = 1) =>
        new(n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, 1);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardAndBackwardDataMatchTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3), dy = KernelTestUtil.Random((int)g.OutputLength, 4);
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Max == 512)
                Assert.True(ConvolutionDirect.Applies(g) || ConvolutionDirect.AppliesToBackwardData(g), $"{name}: the direct path should run");
        });
        foreach (int width in DirectWidths)
        {
            foreach (var b in new[] { bias, [] })
            {
                float[] expected = new float[g.OutputLength];
                ConvolutionReference.Forward(g, x, w, b, expected);
                float[] one = Run(g.OutputLength, width, 1, y => Convolution.Forward(g, x, w, b, y));
                float[] two = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, b, y));
                KernelTestUtil.AssertClose(expected, one, 1e-6 * (depth + 1), 1e-5, $"{name}, width {width}, forward, bias {b.Length > 0}");
                KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}, forward on 1 and 2 threads, bias {b.Length > 0}");
                // The ReLU applied in the output pass: the forward's values clamped at zero, bit for bit.
                float[] relu = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, b, y, relu: true));
                KernelTestUtil.AssertBitIdentical([.. one.Select(v => v > 0 ? v : 0f)], relu, $"{name}, width {width}, forward with ReLU");
            }
            float[] dxExpected = new float[g.InputLength];
            ConvolutionReference.BackwardData(g, dy, w, dxExpected);
            float[] dxOne = Run(g.InputLength, width, 1, dx => Convolution.BackwardData(g, dy, w, dx));
            float[] dxTwo = Run(g.InputLength, width, 2, dx => Convolution.BackwardData(g, dy, w, dx));
            KernelTestUtil.AssertClose(dxExpected, dxOne, 1e-6 * (g.OutChannels * g.KernelHeight * g.KernelWidth + 1), 1e-5, $"{name}, width {width}, backward-data");
            KernelTestUtil.AssertBitIdentical(dxOne, dxTwo, $"{name}, width {width}, backward-data on 1 and 2 threads");
        }
    }

    public static readonly TheoryData<string, Conv2dGeometry> WeightGradientGeometries = new()
    {
        { "cifar10_quick conv2 shape (32-channel tiles, depth 800)", G(3, 32, 16, 16, 32, 5, 5, 2, 2) },
        { "16 channels (16-channel tiles), depth 72: the last tile has 2 rows", G(2, 8, 12, 12, 16, 3, 3, 1, 1) },
        { "48 channels: three 16-channel tiles", G(2, 8, 7, 9, 48, 3, 3, 1, 1) },
        { "64 channels, 8x8 plane", G(3, 16, 8, 8, 64, 3, 3, 1, 1) },
        { "stride 2 with padding", new Conv2dGeometry(3, 8, 11, 13, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1) },
        { "dilation 2, stride (1, 3)", new Conv2dGeometry(2, 11, 14, 15, 16, 3, 2, 1, 3, 2, 0, 2, 2, 1) },
        { "pointwise", G(2, 67, 6, 5, 16, 1, 1, 0, 0) },
        { "many chunks (large planes, 9 images)", G(9, 8, 96, 80, 16, 3, 3, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(WeightGradientGeometries))]
    public void WeightGradientMatchesTheReference(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 8), dy = KernelTestUtil.Random((int)g.OutputLength, 9);
        float[] expected = new float[g.WeightLength], expectedBias = new float[g.OutChannels];
        ConvolutionReference.BackwardWeights(g, x, dy, expected, expectedBias);
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Max == 512) Assert.True(ConvolutionDirectWeightGradient.Applies(g), $"{name}: the direct path should run");
        });
        int pixels = g.Batch * g.OutHeight * g.OutWidth;
        float[]? first = null;
        foreach (int width in DirectWidths)
        {
            float[] one = Run(g.WeightLength, width, 1, dw => Convolution.BackwardWeights(g, x, dy, dw, []));
            float[] two = Run(g.WeightLength, width, 2, dw => Convolution.BackwardWeights(g, x, dy, dw, []));
            KernelTestUtil.AssertClose(expected, one, 1e-6 * (pixels + 1), 1e-5, $"{name}, width {width}, dWeight");
            KernelTestUtil.AssertBitIdentical(one, two, $"{name}, width {width}, dWeight on 1 and 2 threads");
            // Both widths sum each element's pixels in order, one multiply-add each: the same bits.
            if (first is null) first = one;
            else KernelTestUtil.AssertBitIdentical(first, one, $"{name}, dWeight with AVX-512 and AVX2");
        }
        float[] bias = Run(g.OutChannels, SimdWidth.Max, 2, db => Convolution.BackwardWeights(g, x, dy, new float[g.WeightLength], db));
        KernelTestUtil.AssertClose(expectedBias, bias, 1e-6 * (pixels + 1), 1e-5, $"{name}, dBias");
    }

    public static readonly TheoryData<Conv2dGeometry> PackedComparisons = new()
    {
        G(4, 32, 16, 16, 32, 5, 5, 2, 2),
        G(1, 20, 12, 12, 50, 5, 5, 0, 0),         // 8-pixel rows: shifted planes against the packed column panels
        G(1, 32, 8, 8, 64, 5, 5, 2, 2),           // cifar10_quick conv3, batch 1
        G(3, 20, 12, 12, 50, 5, 5, 0, 0),         // LeNet conv2, batch 3: shifted planes per image
        G(3, 1, 28, 28, 20, 5, 5, 0, 0),          // LeNet conv1, batch 3: shifted planes, 24-pixel rows
        G(2, 5, 9, 6, 16, 3, 3, 2, 2),            // padded image, batch 2: shifted planes from the padded copy
        S(3, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1),   // strided: phase planes against the packed column panels
        G(2, 6, 10, 8, 13, 3, 3, 1, 1),           // 13 channels: the bias added in a part-filled 8-row tile
        G(2, 3, 32, 32, 32, 5, 5, 2, 2),          // cifar10_quick conv1: the bias added as the tile is stored
    };

    [Theory]
    [MemberData(nameof(PackedComparisons))]
    public void SameValuesAsThePackedPathWithinRounding(Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 5), w = KernelTestUtil.Random((int)g.WeightLength, 6), bias = KernelTestUtil.Random(g.OutChannels, 7);
        foreach (int width in DirectWidths)
        {
            float[] direct = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, bias, y));
            ConvolutionDirect.Enabled = false;
            float[] packed;
            try { packed = Run(g.OutputLength, width, 2, y => Convolution.Forward(g, x, w, bias, y)); }
            finally { ConvolutionDirect.Enabled = true; }
            // Each output sums the same products in the same order on both paths (only where the panel comes from differs).
            KernelTestUtil.AssertBitIdentical(packed, direct, $"direct vs packed, width {width}");
        }
    }

    [Fact]
    public void AvxTwoRunsTheCommonLayersDirectly()
    {
        KernelTestUtil.With(256, null, () =>
        {
            if (SimdWidth.Max != 256) return;
            Assert.True(ConvolutionDirect.Applies(G(100, 32, 16, 16, 32, 5, 5, 2, 2)));                     // cifar10_quick conv2
            Assert.True(ConvolutionDirect.AppliesToBackwardData(G(128, 16, 32, 32, 16, 3, 3, 1, 1)));     // ResNet-20, first stage
            Assert.True(ConvolutionDirectWeightGradient.Applies(G(128, 16, 32, 32, 16, 3, 3, 1, 1)));
        });
    }

    [Fact]
    public void BackwardDataIsTheForwardOfTheFlippedConvolution()
    {
        var g = G(2, 6, 9, 16, 10, 3, 5, 1, 2, 2, 1);
        var f = ConvolutionDirect.Flipped(g);
        Assert.Equal((g.Batch, g.OutChannels, g.OutHeight, g.OutWidth), (f.Batch, f.InChannels, f.InHeight, f.InWidth));
        Assert.Equal((g.InChannels, g.InHeight, g.InWidth), (f.OutChannels, f.OutHeight, f.OutWidth));
        Assert.Equal((3, 2), (f.PadHeight, f.PadWidth));   // (KH-1)*dilation - pad: (3-1)*2 - 1 and (5-1)*1 - 2
    }

    [Fact]
    public void FewOutputChannelsAndLargeWeightsKeepThePackedPath()
    {
        KernelTestUtil.With(512, null, () =>
        {
            if (SimdWidth.Max != 512) return;
            Assert.False(ConvolutionDirect.Applies(G(2, 32, 16, 16, 3, 5, 5, 2, 2)));       // 3 of 8 rows used
            Assert.False(ConvolutionDirect.Applies(G(2, 256, 8, 8, 256, 3, 3, 1, 1)));     // 2.25 MiB of weights per panel
            Assert.False(ConvolutionDirect.Applies(S(2, 8, 25, 25, 16, 3, 3, 3, 3, 1, 1)));   // stride 3
            Assert.True(ConvolutionDirect.Applies(S(2, 8, 16, 16, 16, 3, 3, 2, 2, 1, 1)));    // stride 2: phase planes
            Assert.False(ConvolutionDirect.AppliesToBackwardData(G(2, 3, 32, 32, 32, 5, 5, 2, 2)));   // dx has 3 channels
            Assert.False(ConvolutionDirectWeightGradient.Applies(G(2, 20, 12, 12, 50, 5, 5, 0, 0)));   // LeNet conv2: 50 channels
            Assert.True(ConvolutionDirectShifted.Applies(G(64, 20, 12, 12, 50, 5, 5, 0, 0), 512));      // LeNet conv2 at batch 64
            Assert.False(ConvolutionDirectShifted.Applies(G(100, 32, 8, 8, 64, 5, 5, 2, 2), 512));     // cifar10_quick conv3: 60 KB of planes
            Assert.False(ConvolutionDirectWeightGradient.Applies(G(2, 3, 32, 32, 32, 3, 3, 1, 1)));    // depth 27
        });
    }

    private static float[] Run(long length, int width, int threads, Action<float[]> body)
    {
        float[] result = new float[length];
        Array.Fill(result, float.NaN);   // every element must be written
        KernelTestUtil.With(width, threads, () => body(result));
        return result;
    }
}
