using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The activations split over the kernel threads (large buffers): the plain per-element definitions, bit for bit.</summary>
[Collection("KernelSettings")]
public class ActivationsThreadedTests
{
    // Large enough for three runs of 64K, with a tail that is not a multiple of 16; some NaN, -0 and exact zeros.
    private const int N = 3 * 65536 + 1013;

    [Fact]
    public void LargeBuffersGiveTheDefinitionsBitsAtEveryWidthAndThreadCount()
    {
        float[] x = KernelTestUtil.Random(N, 7), b = KernelTestUtil.Random(N, 8), dy = KernelTestUtil.Random(N, 9);
        x[5] = float.NaN; x[70000] = -0f; x[131072] = 0f; x[N - 1] = float.NaN; b[17] = float.NaN;
        float[] relu = x.Select(v => v > 0 ? v : v <= 0 ? 0f : v).ToArray();
        float[] addRelu = x.Zip(b, (u, v) => u + v).Select(v => v > 0 ? v : v <= 0 ? 0f : v).ToArray();
        float[] reluGrad = x.Zip(dy, (u, g) => u > 0 ? g : 0f).ToArray();
        float[] leaky = x.Select(v => v > 0 ? v : v * 0.1f).ToArray();
        float[] leakyGrad = x.Zip(dy, (u, g) => u > 0 ? g : g * 0.1f).ToArray();
        foreach (int width in KernelTestUtil.Widths)
            foreach (int threads in new[] { 1, 2, 3 })
                KernelTestUtil.With(width, threads, () =>
                {
                    string what = $"width {width} threads {threads}";
                    float[] y = new float[N];
                    Activations.ReluForward(x, y);
                    KernelTestUtil.AssertBitIdentical(relu, y, "relu " + what);
                    Activations.AddReluForward(x, b, y);
                    KernelTestUtil.AssertBitIdentical(addRelu, y, "add relu " + what);
                    Activations.ReluBackward(x, dy, y);
                    KernelTestUtil.AssertBitIdentical(reluGrad, y, "relu backward " + what);
                    Activations.LeakyReluForward(x, 0.1f, y);
                    KernelTestUtil.AssertBitIdentical(leaky, y, "leaky relu " + what);
                    Activations.LeakyReluBackward(x, dy, 0.1f, y);
                    KernelTestUtil.AssertBitIdentical(leakyGrad, y, "leaky relu backward " + what);
                    // In place, as Caffe's ReLU layers run.
                    float[] inPlace = (float[])x.Clone();
                    Activations.ReluForward(inPlace, inPlace);
                    KernelTestUtil.AssertBitIdentical(relu, inPlace, "relu in place " + what);
                });
    }

    [Fact]
    public void MismatchedLengthsAreRefused()
    {
        KernelTestUtil.With(null, 2, () =>
            Assert.Throws<ArgumentException>(() => Activations.ReluBackward(new float[N], new float[N - 1], new float[N])));
    }
}
