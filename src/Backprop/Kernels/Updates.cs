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
