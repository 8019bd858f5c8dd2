using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>The vectorised activations and SGD steps against their scalar formulas, bit for bit, at every SIMD width.</summary>
[Collection("KernelSettings")]
public class ElementwiseTests
{
    public static readonly TheoryData<int> Lengths = new() { 1, 3, 4, 7, 15, 16, 17, 33, 100, 1031 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ActivationsMatchScalarLoopsAtEveryWidth(int n)
    {
        float[] x = KernelTestUtil.Random(n, 1, 3f), dy = KernelTestUtil.Random(n, 2);
        x[0] = float.NaN;
        if (n > 2) { x[1] = -0f; x[2] = 0f; }
        float[] y01 = KernelTestUtil.Random(n, 3);
        foreach (int width in KernelTestUtil.Widths)
        {
            KernelTestUtil.With(width, null, () =>
            {
                Check(x, v => v > 0 ? v : v <= 0 ? 0f : v, y => Activations.ReluForward(x, y), "relu", width);
                Check(x, (v, d) => v > 0 ? d : 0f, dy, dx => Activations.ReluBackward(x, dy, dx), "relu backward", width);
                Check(x, v => v > 0 ? v : v * 0.1f, y => Activations.LeakyReluForward(x, 0.1f, y), "leaky", width);
                Check(x, (v, d) => v > 0 ? d : d * 0.1f, dy, dx => Activations.LeakyReluBackward(x, dy, 0.1f, dx), "leaky backward", width);
                Check(y01, (v, d) => d * v * (1f - v), dy, dx => Activations.SigmoidBackward(y01, dy, dx), "sigmoid backward", width);
                Check(y01, (v, d) => d * (1f - v * v), dy, dx => Activations.TanhBackward(y01, dy, dx), "tanh backward", width);
            });
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SgdStepsMatchScalarLoopsAtEveryWidth(int n)
    {
        float[] w = KernelTestUtil.Random(n, 4), g = KernelTestUtil.Random(n, 5), v = KernelTestUtil.Random(n, 6);
        const float m = 0.9f, lr = 0.01f, wd = 0.0005f;
        var expectAdd = new float[n]; var expectAxpby = new float[n]; var expectSub = new float[n]; var expectNesterov = new float[n];
        for (int i = 0; i < n; i++)
        {
            expectAdd[i] = g[i] + wd * w[i];
            expectAxpby[i] = m * v[i] + lr * g[i];
            expectSub[i] = w[i] - lr * g[i];
            float old = v[i], nv = m * old + lr * g[i];
            expectNesterov[i] = w[i] - ((1 + m) * nv - m * old);
        }
        foreach (int width in KernelTestUtil.Widths)
        {
            KernelTestUtil.With(width, null, () =>
            {
                var r = new float[n];
                Updates.AddScaled(g, wd, w, r);
                KernelTestUtil.AssertBitIdentical(expectAdd, r, $"g + wd*w width {width}");
                Updates.Axpby(m, v, lr, g, r);
                KernelTestUtil.AssertBitIdentical(expectAxpby, r, $"m*v + lr*g width {width}");
                var ws = (float[])w.Clone();
                Updates.SubtractScaled(ws, lr, g);
                KernelTestUtil.AssertBitIdentical(expectSub, ws, $"w - lr*g width {width}");
                ws = (float[])w.Clone();
                Updates.NesterovCaffe(ws, v, g, m, lr);
                KernelTestUtil.AssertBitIdentical(expectNesterov, ws, $"nesterov width {width}");
            });
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(200_003)]   // several threaded chunks and a ragged tail
    public void FusedCaffeSgdStepEqualsTheThreeKernelsInTurn(int n)
    {
        float[] w = KernelTestUtil.Random(n, 7), g = KernelTestUtil.Random(n, 8), v = KernelTestUtil.Random(n, 9);
        const float m = 0.9f, lr = 0.01f;
        foreach (float wd in new[] { 0.0005f, 0f })
        {
            // The unfused path the optimizer took before: r = g + wd*w (only when wd != 0), v = m*v + lr*r, w -= 1*v.
            float[] expectW = (float[])w.Clone(), expectV = (float[])v.Clone(), r = (float[])g.Clone();
            if (wd != 0) Updates.AddScaled(g, wd, w, r);
            Updates.Axpby(m, expectV, lr, r, expectV);
            Updates.SubtractScaled(expectW, 1f, expectV);
            foreach (int width in KernelTestUtil.Widths)
                foreach (int threads in new[] { 1, 2 })
                    KernelTestUtil.With(width, threads, () =>
                    {
                        float[] ws = (float[])w.Clone(), vs = (float[])v.Clone();
                        Updates.SgdCaffe(ws, vs, g, wd, m, lr);
                        KernelTestUtil.AssertBitIdentical(expectV, vs, $"history, wd {wd}, width {width}, {threads} threads");
                        KernelTestUtil.AssertBitIdentical(expectW, ws, $"weights, wd {wd}, width {width}, {threads} threads");
                    });
        }
    }

    private static void Check(float[] x, Func<float, float> f, Action<float[]> kernel, string what, int width)
    {
        var expected = x.Select(f).ToArray();
        var actual = new float[x.Length];
        kernel(actual);
        KernelTestUtil.AssertBitIdentical(expected, actual, $"{what} width {width}");
    }

    private static void Check(float[] x, Func<float, float, float> f, float[] dy, Action<float[]> kernel, string what, int width)
    {
        var expected = x.Select((v, i) => f(v, dy[i])).ToArray();
        var actual = new float[x.Length];
        kernel(actual);
        KernelTestUtil.AssertBitIdentical(expected, actual, $"{what} width {width}");
    }
}
