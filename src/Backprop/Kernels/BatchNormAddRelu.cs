using System.Buffers;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

public static unsafe partial class BatchNorm
{
    /// <summary>
    /// y = max(((x − hi) − lo)·scale + bias + residual, 0): <see cref="Normalize"/>'s output plus the residual, then
    /// <see cref="Activations.AddReluForward"/>'s ReLU, with the bits of those two passes but one pass over memory and no
    /// normalized tensor stored between them. Backward is <see cref="Activations.ReluBackward"/> on y, then
    /// BatchNorm's own backward (the sums, then <see cref="BackwardInput"/>) on the masked gradient.
    /// </summary>
    // x, residual, y: (N, C, inner); mean, invStd: (C); weight, bias: (C) or empty
    public static void NormalizeAddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        Check(x.Length, n, c, inner, mean.Length, invStd.Length, "NormalizeAddRelu");
        CheckAffine(c, weight.Length, bias.Length, y.Length, x.Length, "NormalizeAddRelu");
        if (residual.Length != x.Length)
            throw new ArgumentException($"BatchNorm.NormalizeAddRelu: residual of {residual.Length} elements does not match x of {x.Length}.");
        var ops = NormalizeOps(mean, invStd, weight, bias, relu: false);
        try
        {
            fixed (float* px = x, pr = residual, py = y)
            {
                float* xp = px, rp = pr, yp = py;
                KernelThreads.For(n * c, (start, end) =>
                {
                    for (int p = start; p < end; p++)
                    {
                        long o = (long)p * inner;
                        Elementwise.Map(new AddReluOp(ops[p % c]), new ReadOnlySpan<float>(xp + o, inner), new ReadOnlySpan<float>(rp + o, inner),
                            default, new Span<float>(yp + o, inner));
                    }
                });
            }
        }
        finally
        {
            ArrayPool<NormalizeOp>.Shared.Return(ops);
        }
    }

    // x in a, the residual in b: relu(affine(x) + r), the sum rounded to float first, NaN kept (Activations' ReLU).
    private readonly struct AddReluOp(NormalizeOp affine) : IElementwiseOp
    {
        public float Invoke(float x, float r, float c) { float s = affine.Affine(x) + r; return s > 0 ? s : s <= 0 ? 0f : s; }
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> r, Vector512<float> c)
        { var s = affine.Affine(x) + r; return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(s, Vector512<float>.Zero), Vector512<float>.Zero, s); }
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> r, Vector256<float> c)
        { var s = affine.Affine(x) + r; return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(s, Vector256<float>.Zero), Vector256<float>.Zero, s); }
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> r, Vector128<float> c)
        { var s = affine.Affine(x) + r; return Vector128.ConditionalSelect(Vector128.LessThanOrEqual(s, Vector128<float>.Zero), Vector128<float>.Zero, s); }
    }
}
