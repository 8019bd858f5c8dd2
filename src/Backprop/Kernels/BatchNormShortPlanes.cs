using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// <see cref="BatchNormSums.Sums"/> and the plane moments for short planes (ResNet's 8×8 and 16×16: a few 512-bit
/// vectors), with the same operations in the same order and so the same bits, but inlined into the caller's loop over
/// planes: the general code's width checks, block bookkeeping, calls and unused terms cost more than the arithmetic of a
/// 64-value plane, and one plane's long chain of dependent steps (sum, divide, split, shifted sums, merge) could not
/// overlap the next plane's across those calls. (The backward's one-pass sums keep the general code: inlined there
/// they measured about 5% slower at (128, 64, 8, 8).)
/// </summary>
internal static unsafe class BatchNormShortPlanes
{
    /// <summary>The longest plane the short path takes (in one block of <see cref="BatchNormSums"/>).</summary>
    public const int MaxLength = 256;

    /// <summary>Off makes every plane take the general code: tests compare the two paths' bits.</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Whether planes of <paramref name="length"/> values take the short path at the current SIMD width.</summary>
    public static bool Applies(int length) =>
        Enabled && SimdWidth.Allows512(SimdWidth.Max) && length >= 16 && length <= MaxLength && length % 16 == 0;

    /// <summary>Sums' Σ A and Σ B for a length that <see cref="Applies"/>: its 512-bit path, which then covers the whole run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sums<T>(T terms, float* x, float* g, int length, out double sumA, out double sumB) where T : struct, IPairTerms
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            Vector512<float> x0 = Vector512.Load(x + i), x1 = Vector512.Load(x + i + 16);
            Vector512<float> g0 = Vector512.Load(g + i), g1 = Vector512.Load(g + i + 16);
            a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
            a1 += terms.A(x1, g1); b1 += terms.B(x1, g1);
        }
        if (i < length)
        {
            Vector512<float> x0 = Vector512.Load(x + i), g0 = Vector512.Load(g + i);
            a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
        }
        var (aLo, aHi) = Vector512.Widen(a0 + a1);
        var (bLo, bHi) = Vector512.Widen(b0 + b1);
        // The general code's zero-started accumulators: 0 + s is s except that it turns −0 into +0.
        sumA = 0.0 + Vector512.Sum(Vector512<double>.Zero + (aLo + aHi));
        sumB = 0.0 + Vector512.Sum(Vector512<double>.Zero + (bLo + bHi));
    }

    /// <summary>Σ x over a length that <see cref="Applies"/>: Sums' A with the shift 0 (x − 0 − 0 is x), without its B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(float* x, int length)
    {
        Vector512<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            a0 += Vector512.Load(x + i);
            a1 += Vector512.Load(x + i + 16);
        }
        if (i < length) a0 += Vector512.Load(x + i);
        var (lo, hi) = Vector512.Widen(a0 + a1);
        return 0.0 + Vector512.Sum(Vector512<double>.Zero + (lo + hi));
    }
}
