using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>An elementwise operation of up to three inputs, at every SIMD width and in scalar code.</summary>
internal interface IElementwiseOp
{
    float Invoke(float a, float b, float c);
    Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> c);
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> c);
    Vector128<float> Invoke(Vector128<float> a, Vector128<float> b, Vector128<float> c);
}

/// <summary>
/// The one driver loop the elementwise kernels share: y[i] = op(a[i], b[i], c[i]) at the widest width
/// <see cref="SimdWidth.Max"/> allows, the tail in scalar code. An op applies the same float operations in
/// the same order at every width (no fused multiply-add), so every width gives the same bits.
/// Unused inputs may be empty; y may alias any input.
/// </summary>
internal static unsafe class Elementwise
{
    // a, b, c: (n) or empty; y: (n)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Map<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
        where TOp : struct, IElementwiseOp
    {
        int n = y.Length;
        if ((a.Length != 0 && a.Length != n) || (b.Length != 0 && b.Length != n) || (c.Length != 0 && c.Length != n))
            throw new ArgumentException($"Elementwise: inputs of {a.Length}, {b.Length}, {c.Length} elements do not match the output's {n}.");
        fixed (float* pa0 = a, pb0 = b, pc0 = c, py = y)
        {
            // An absent input reads the output (its values are ignored by the op).
            float* pa = a.Length == 0 ? py : pa0, pb = b.Length == 0 ? py : pb0, pc = c.Length == 0 ? py : pc0;
            int i = 0, width = SimdWidth.Max;
            if (SimdWidth.Allows512(width))
                for (; i + 16 <= n; i += 16)
                    op.Invoke(Vector512.Load(pa + i), Vector512.Load(pb + i), Vector512.Load(pc + i)).Store(py + i);
            if (SimdWidth.Allows256(width))
                for (; i + 8 <= n; i += 8)
                    op.Invoke(Vector256.Load(pa + i), Vector256.Load(pb + i), Vector256.Load(pc + i)).Store(py + i);
            if (SimdWidth.Allows128(width))
                for (; i + 4 <= n; i += 4)
                    op.Invoke(Vector128.Load(pa + i), Vector128.Load(pb + i), Vector128.Load(pc + i)).Store(py + i);
            for (; i < n; i++) py[i] = op.Invoke(pa[i], pb[i], pc[i]);
        }
    }
}
