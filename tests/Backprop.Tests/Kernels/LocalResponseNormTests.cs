using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The fused LRN kernel against the plain loops, across channels and within a channel, on 1 and 2 threads.</summary>
[Collection("KernelSettings")]
public class LocalResponseNormTests
{
    [Theory]
    [InlineData(2, 7, 5, 6, 5, 1e-2f, 0.75f, 2f, true)]     // AlexNet's form: 5 channels, k = 2
    [InlineData(1, 3, 4, 4, 5, 0.5f, 0.75f, 1f, true)]      // fewer channels than the window
    [InlineData(2, 3, 6, 5, 3, 5e-2f, 0.75f, 1f, false)]    // cifar10_full's form: 3x3 in the plane
    [InlineData(1, 2, 2, 3, 5, 0.3f, 0.6f, 1f, false)]      // a plane smaller than the window
    public void MatchesTheReference(int n, int c, int h, int w, int size, float alpha, float beta, float k, bool across)
    {
        int length = n * c * h * w;
        float[] x = KernelTestUtil.Random(length, 1, 3f), dy = KernelTestUtil.Random(length, 2);
        float[] expectedY = new float[length], expectedDx = new float[length];
        LocalResponseNormReference.Forward(x, n, c, h, w, size, alpha, beta, k, across, expectedY);
        LocalResponseNormReference.Backward(x, dy, n, c, h, w, size, alpha, beta, k, across, expectedDx);
        float[]? firstY = null, firstDx = null;
        foreach (int threads in new[] { 1, 2 })
        {
            float[] y = new float[length], scale = new float[length], power = new float[length], dx = new float[length];
            KernelTestUtil.With(null, threads, () =>
            {
                LocalResponseNorm.Forward(x, n, c, h, w, size, alpha, beta, k, across, y, scale, power);
                LocalResponseNorm.Backward(x, y, scale, power, dy, n, c, h, w, size, alpha, beta, across, dx);
            });
            KernelTestUtil.AssertClose(expectedY, y, 1e-6, 1e-5, $"y, {threads} threads");
            KernelTestUtil.AssertClose(expectedDx, dx, 1e-5, 1e-4, $"dx, {threads} threads");
            if (firstY is null) (firstY, firstDx) = (y, dx);
            else
            {
                KernelTestUtil.AssertBitIdentical(firstY, y, "y on 1 and 2 threads");
                KernelTestUtil.AssertBitIdentical(firstDx!, dx, "dx on 1 and 2 threads");
            }
        }
    }

    [Fact]
    public void RejectsAnEvenWindow()
    {
        var ex = Assert.Throws<ArgumentException>(() => LocalResponseNorm.Forward(new float[8], 1, 2, 2, 2, 4, 1f, 0.75f, 1f, true, new float[8], new float[8], new float[8]));
        Assert.Contains("odd", ex.Message);
    }
}
