using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The elementwise steps of the SGD update, vectorised (see <see cref="Elementwise"/>), each written as
/// the scalar formula it evaluates in that order, so results equal the plain loops bit for bit.
/// </summary>
public static class Updates
{
    /// <summary>y = a + s·b (L2 weight decay: g + wd·w; Caffe's history: lr·g + m·v is Axpby).</summary>
    // a, b, y: (n)
    public static void AddScaled(ReadOnlySpan<float> a, float s, ReadOnlySpan<float> b, Span<float> y) =>
        Elementwise.Map(new AxpbyOp(1f, s, skipFirstScale: true), a, b, default, y);

    /// <summary>y = p·a + q·b.</summary>
    // a, b, y: (n)
    public static void Axpby(float p, ReadOnlySpan<float> a, float q, ReadOnlySpan<float> b, Span<float> y) =>
        Elementwise.Map(new AxpbyOp(p, q, skipFirstScale: false), a, b, default, y);

    /// <summary>w = w − s·g.</summary>
    // w, g: (n)
    public static void SubtractScaled(Span<float> w, float s, ReadOnlySpan<float> g) =>
        Elementwise.Map(new SubScaled(s), w, g, default, w);

    /// <summary>Caffe's Nesterov step on w, before the history is updated: w −= (1+m)·(m·v + lr·g) − m·v.</summary>
    // w, v, g: (n); v is the history before this step
    public static void NesterovCaffe(Span<float> w, ReadOnlySpan<float> v, ReadOnlySpan<float> g, float m, float lr) =>
        Elementwise.Map(new Nesterov(m, lr), w, v, g, w);

    /// <summary>
    /// Caffe's SGD step with L2 weight decay in one pass over memory: r = g + wd·w (skipped when wd is 0),
    /// v = m·v + lr·r, w −= v. The same float operations in the same order as <see cref="AddScaled"/>,
    /// <see cref="Axpby"/> and <see cref="SubtractScaled"/> one after another, so the same bits; threaded
    /// over fixed chunks for large parameters (elementwise: any split gives the same result).
    /// </summary>
    // w, v, g: (n); w and v updated in place
    public static unsafe void SgdCaffe(Span<float> w, Span<float> v, ReadOnlySpan<float> g, float wd, float m, float lr)
    {
        int n = w.Length;
        if (v.Length != n || g.Length != n)
            throw new ArgumentException($"SgdCaffe: weights ({n}), history ({v.Length}) and gradient ({g.Length}) differ in length.");
        fixed (float* pw = w, pv = v, pg = g)
        {
            nint iw = (nint)pw, iv = (nint)pv, ig = (nint)pg;
            int chunks = (n + ChunkLength - 1) / ChunkLength;
            if (chunks > 1)
                KernelThreads.For(chunks, (s, e) =>
                {
                    int i0 = s * ChunkLength, i1 = Math.Min(n, e * ChunkLength);
                    SgdCaffe((float*)iw + i0, (float*)iv + i0, (float*)ig + i0, i1 - i0, wd, m, lr);
                });
            else SgdCaffe(pw, pv, pg, n, wd, m, lr);
        }
    }

    private const int ChunkLength = 1 << 16;

    private static unsafe void SgdCaffe(float* w, float* v, float* g, int n, float wd, float m, float lr)
    {
        bool decay = wd != 0;
        int i = 0, width = SimdWidth.Max;
        if (SimdWidth.Allows512(width))
            for (; i + 16 <= n; i += 16)
            {
                var r = Vector512.Load(g + i);
                if (decay) r += Vector512.Load(w + i) * wd;
                var h = Vector512.Load(v + i) * m + r * lr;
                h.Store(v + i);
                (Vector512.Load(w + i) - h * 1f).Store(w + i);
            }
        if (SimdWidth.Allows256(width))
            for (; i + 8 <= n; i += 8)
            {
                var r = Vector256.Load(g + i);
                if (decay) r += Vector256.Load(w + i) * wd;
                var h = Vector256.Load(v + i) * m + r * lr;
                h.Store(v + i);
                (Vector256.Load(w + i) - h * 1f).Store(w + i);
            }
        if (SimdWidth.Allows128(width))
            for (; i + 4 <= n; i += 4)
            {
                var r = Vector128.Load(g + i);
                if (decay) r += Vector128.Load(w + i) * wd;
                var h = Vector128.Load(v + i) * m + r * lr;
                h.Store(v + i);
                (Vector128.Load(w + i) - h * 1f).Store(w + i);
            }
        for (; i < n; i++)
        {
            float r = decay ? g[i] + wd * w[i] : g[i];
            v[i] = m * v[i] + lr * r;
            w[i] = w[i] - 1f * v[i];
        }
    }

    // y = p·a + q·b, or a + q·b
    private readonly struct AxpbyOp(float p, float q, bool skipFirstScale) : IElementwiseOp
    {
        public float Invoke(float a, float b, float c) => (skipFirstScale ? a : p * a) + q * b;
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> c) => (skipFirstScale ? a : a * p) + b * q;
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> c) => (skipFirstScale ? a : a * p) + b * q;
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b, Vector128<float> c) => (skipFirstScale ? a : a * p) + b * q;
    }

    private readonly struct SubScaled(float s) : IElementwiseOp
    {
        public float Invoke(float w, float g, float c) => w - s * g;
        public Vector512<float> Invoke(Vector512<float> w, Vector512<float> g, Vector512<float> c) => w - g * s;
        public Vector256<float> Invoke(Vector256<float> w, Vector256<float> g, Vector256<float> c) => w - g * s;
        public Vector128<float> Invoke(Vector128<float> w, Vector128<float> g, Vector128<float> c) => w - g * s;
    }

    private readonly struct Nesterov(float m, float lr) : IElementwiseOp
    {
        public float Invoke(float w, float v, float g) => w - ((1 + m) * (m * v + lr * g) - m * v);
        public Vector512<float> Invoke(Vector512<float> w, Vector512<float> v, Vector512<float> g) => w - ((v * m + g * lr) * (1 + m) - v * m);
        public Vector256<float> Invoke(Vector256<float> w, Vector256<float> v, Vector256<float> g) => w - ((v * m + g * lr) * (1 + m) - v * m);
        public Vector128<float> Invoke(Vector128<float> w, Vector128<float> v, Vector128<float> g) => w - ((v * m + g * lr) * (1 + m) - v * m);
    }
}
