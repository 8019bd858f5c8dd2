using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Elementwise activations and their derivatives, vectorised (see <see cref="Elementwise"/>). Every buffer
/// is flat and of equal length; the formula in each comment is the definition, evaluated in that order.
/// The <see cref="Elementwise"/> ones split large buffers over <see cref="KernelThreads"/> (each element is computed
/// alone with the same float operations at every width, so the bits do not depend on the split).
/// </summary>
public static unsafe class Activations
{
    private const int MinRun = 1 << 16;   // 256 KB of floats per thread at least: below that the hand-over costs more

    // Elementwise.Map over runs of at least MinRun elements (multiples of 16 but the last) on the kernel threads.
    private static void Map<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
        where TOp : struct, IElementwiseOp
    {
        int n = y.Length, parts = Math.Min(n / MinRun, KernelThreads.Count);
        if (parts <= 1 || KernelThreads.InWorker) Elementwise.Map(op, a, b, c, y);
        else MapThreaded(op, a, b, c, y, parts);
    }

    // Apart from Map so that the lambda's captured state is allocated only when threads run: captured locals of Map
    // itself would put a closure object on the heap at every call, including the many short single-threaded ones.
    private static void MapThreaded<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y, int parts)
        where TOp : struct, IElementwiseOp
    {
        int n = y.Length;
        if ((a.Length != 0 && a.Length != n) || (b.Length != 0 && b.Length != n) || (c.Length != 0 && c.Length != n))
            throw new ArgumentException($"Elementwise: inputs of {a.Length}, {b.Length}, {c.Length} elements do not match the output's {n}.");
        fixed (float* pa = a, pb = b, pc = c, py = y)
        {
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc, iy = (nint)py;
            bool hasA = a.Length != 0, hasB = b.Length != 0, hasC = c.Length != 0;
            KernelThreads.For(parts, (start, end) =>
            {
                int from = (int)((long)start * n / parts) & ~15, to = end == parts ? n : (int)((long)end * n / parts) & ~15, k = to - from;
                Elementwise.Map(op, hasA ? new ReadOnlySpan<float>((float*)ia + from, k) : default, hasB ? new ReadOnlySpan<float>((float*)ib + from, k) : default,
                    hasC ? new ReadOnlySpan<float>((float*)ic + from, k) : default, new Span<float>((float*)iy + from, k));
            });
        }
    }

    // y = max(x, 0); NaN stays NaN; -0 gives +0.
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> y) => Map(default(Relu), x, default, default, y);

    // y = max(y, 0) in place with ReluForward's bits, on the calling thread (for kernels that apply it to their own output).
    internal static void ReluInPlace(Span<float> y) => Elementwise.Map(default(Relu), y, default, default, y);

    // y = max(a + b, 0), the sum rounded to float first (the bits of ReluForward(a + b)).
    public static void AddReluForward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => Map(default(AddRelu), a, b, default, y);

    // dx = dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch and Caffe).
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        Map(new LeakyReluGrad(0f, zero: true), x, dy, default, dx);

    // y = x for x > 0, slope·x otherwise.
    public static void LeakyReluForward(ReadOnlySpan<float> x, float slope, Span<float> y) => Map(new LeakyRelu(slope), x, default, default, y);

    // dx = dy where x > 0, dy·slope otherwise.
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float slope, Span<float> dx) =>
        Map(new LeakyReluGrad(slope, zero: false), x, dy, default, dx);

    // y = 1 / (1 + e^-x)
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    // dx = dy · y · (1 − y), from the saved output y.
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Map(default(SigmoidGrad), y, dy, default, dx);

    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    // dx = dy · (1 − y²), from the saved output y.
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Map(default(TanhGrad), y, dy, default, dx);

    private readonly struct Relu : IElementwiseOp
    {
        public float Invoke(float x, float b, float c) => x > 0 ? x : x <= 0 ? 0f : x;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> b, Vector512<float> c) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.Zero, x);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> b, Vector256<float> c) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> b, Vector128<float> c) => Vector128.ConditionalSelect(Vector128.LessThanOrEqual(x, Vector128<float>.Zero), Vector128<float>.Zero, x);
    }

    private readonly struct AddRelu : IElementwiseOp
    {
        public float Invoke(float a, float b, float c) => default(Relu).Invoke(a + b, 0, 0);
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> c) => default(Relu).Invoke(a + b, b, c);
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> c) => default(Relu).Invoke(a + b, b, c);
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b, Vector128<float> c) => default(Relu).Invoke(a + b, b, c);
    }

    private readonly struct LeakyRelu(float slope) : IElementwiseOp
    {
        public float Invoke(float x, float b, float c) => x > 0 ? x : x * slope;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> b, Vector512<float> c) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * slope);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> b, Vector256<float> c) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * slope);
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> b, Vector128<float> c) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, x * slope);
    }

    // dx = dy where x > 0; else 0 (ReLU, zero) or dy·slope.
    private readonly struct LeakyReluGrad(float slope, bool zero) : IElementwiseOp
    {
        public float Invoke(float x, float dy, float c) => x > 0 ? dy : zero ? 0f : dy * slope;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy, Vector512<float> c) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, zero ? Vector512<float>.Zero : dy * slope);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy, Vector256<float> c) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, zero ? Vector256<float>.Zero : dy * slope);
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy, Vector128<float> c) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy, zero ? Vector128<float>.Zero : dy * slope);
    }

    private readonly struct SigmoidGrad : IElementwiseOp
    {
        public float Invoke(float y, float dy, float c) => dy * y * (1f - y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy, Vector512<float> c) => dy * y * (Vector512<float>.One - y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy, Vector256<float> c) => dy * y * (Vector256<float>.One - y);
        public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy, Vector128<float> c) => dy * y * (Vector128<float>.One - y);
    }

    private readonly struct TanhGrad : IElementwiseOp
    {
        public float Invoke(float y, float dy, float c) => dy * (1f - y * y);
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy, Vector512<float> c) => dy * (Vector512<float>.One - y * y);
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy, Vector256<float> c) => dy * (Vector256<float>.One - y * y);
        public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy, Vector128<float> c) => dy * (Vector128<float>.One - y * y);
    }
}
