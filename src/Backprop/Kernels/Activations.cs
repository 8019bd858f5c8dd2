using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>Elementwise activations and their derivatives. Every buffer is flat and of equal length.</summary>
public static class Activations
{
    // y = max(x, 0); NaN stays NaN.
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : x[i] <= 0 ? 0f : x[i];
    }

    // dx = dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch and Caffe).
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? dy[i] : 0f;
    }

    // y = x for x > 0, slope·x otherwise.
    public static void LeakyReluForward(ReadOnlySpan<float> x, float slope, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
    }

    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float slope, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope;
    }

    // y = 1 / (1 + e^-x)
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    // dx = dy · y · (1 − y), from the saved output y.
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < y.Length; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
    }

    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    // dx = dy · (1 − y²), from the saved output y.
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < y.Length; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
    }
}
