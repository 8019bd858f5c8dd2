using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>Forward convolution through implicit im2col (panels packed straight from the image) against the plain loops.</summary>
[Collection("KernelSettings")]
public class ConvolutionImplicitGemmTests
{
    private static Conv2dGeometry G(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) =>
        new(n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, 1);

    public static readonly TheoryData<string, Conv2dGeometry> Geometries = new()
    {
        { "LeNet conv1 (1 channel, 24-pixel rows across 32-column panels)", G(3, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1) },
        { "LeNet conv2 (depth 500: two depth blocks)", G(2, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1) },
        { "output one pixel wide", G(2, 3, 9, 3, 5, 3, 3, 1, 1, 0, 0, 1, 1) },
        { "padding wider than the kernel reach", G(2, 2, 4, 5, 3, 3, 3, 1, 1, 3, 4, 1, 1) },
        { "stride 3 with padding", G(2, 3, 17, 16, 7, 3, 3, 3, 3, 1, 2, 1, 1) },
        { "dilation 2 with padding, depth 297", G(1, 33, 9, 11, 13, 3, 3, 1, 1, 2, 2, 2, 2) },
        { "stride 2 no padding, prime sizes", G(3, 5, 13, 11, 7, 3, 2, 2, 2, 0, 0, 1, 1) },
        { "single output pixel", G(2, 4, 3, 3, 6, 3, 3, 1, 1, 0, 0, 1, 1) },
        { "batch 1, many panels", G(1, 3, 40, 37, 9, 3, 3, 1, 1, 1, 1, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesReferenceAtEveryWidth(string name, Conv2dGeometry g)
    {
        float[] x = KernelTestUtil.Random((int)g.InputLength, 1), w = KernelTestUtil.Random((int)g.WeightLength, 2);
        float[] bias = KernelTestUtil.Random(g.OutChannels, 3);
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        foreach (var b in new[] { bias, [] })
        {
            float[] expected = new float[g.OutputLength];
            ConvolutionReference.Forward(g, x, w, b, expected);
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2 })
                {
                    float[] actual = new float[g.OutputLength];
                    Array.Fill(actual, float.NaN);   // every element must be written
                    KernelTestUtil.With(width, threads, () => Convolution.Forward(g, x, w, b, actual));
                    KernelTestUtil.AssertClose(expected, actual, 1e-6 * (depth + 1), 1e-5, $"{name}, width {width}, {threads} threads, bias {b.Length > 0}");
                }
        }
    }

    [Fact]
    public void SameValuesAsTheIm2ColPathWithinRounding()
    {
        var g = G(5, 20, 12, 12, 50, 5, 5, 1, 1, 2, 1, 1, 1);
        float[] x = KernelTestUtil.Random((int)g.InputLength, 4), w = KernelTestUtil.Random((int)g.WeightLength, 5), bias = KernelTestUtil.Random(50, 6);
        float[] implicitY = new float[g.OutputLength], im2colY = new float[g.OutputLength];
        Convolution.Forward(g, x, w, bias, implicitY);
        Convolution.ImplicitGemmEnabled = false;
        try { Convolution.Forward(g, x, w, bias, im2colY); }
        finally { Convolution.ImplicitGemmEnabled = true; }
        KernelTestUtil.AssertClose(im2colY, implicitY, 1e-4, 1e-5, "implicit vs im2col");
    }
}
