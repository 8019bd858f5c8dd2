using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The forward statistics' plane moments for short planes (<see cref="BatchNormShortPlanes.Applies"/>: AVX-512, up to 256
/// values), eight planes at a time with the bits of the one-plane code: each plane's float sums are formed and widened as
/// there, but the eight planes' horizontal sums of double vectors are one transpose-and-add (the same pairs added in the same
/// order as <see cref="Vector512.Sum{T}(Vector512{T})"/>: ((e0 + e1) + (e2 + e3)) + ((e4 + e5) + (e6 + e7))), and the
/// scalar steps after them (divide, split into hi + lo, the shifted moments' correction, the merge) run on the eight planes'
/// values as one vector of doubles with the same IEEE operations. One plane's horizontal sum was about 20 instructions and
/// three of them per plane, most of the work of an 8x8 plane.
/// </summary>
internal static unsafe class BatchNormShortMoments
{
    /// <summary>
    /// Off makes short planes take the one-plane loop (<see cref="BatchNormShortPlanes"/>) and the merge over images one
    /// channel at a time (its vector form, for every plane length, is switched with this): tests compare the bits.
    /// </summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Planes [first, last) of x: (planes, inner) into planeMean and planeM2 (inner: <see cref="BatchNormShortPlanes.Applies"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PlaneRun(float* x, int inner, int first, int last, double[] planeMean, double[] planeM2)
    {
        float* his = stackalloc float[8], los = stackalloc float[8];
        double* means = stackalloc double[8], m2s = stackalloc double[8];
        var n = Vector512.Create((double)inner);
        var zero = Vector512<double>.Zero;
        for (int p0 = first; p0 < last; p0 += 8)
        {
            int count = Math.Min(8, last - p0);
            float* xp = x + (long)p0 * inner;
            // Stage 1: Σ x per plane (BatchNormShortPlanes.Sum), then mean / inner split into two floats (BatchNorm.Split).
            var s = zero + Transposed(
                PlaneSum(xp, inner, 0, count), PlaneSum(xp, inner, 1, count), PlaneSum(xp, inner, 2, count), PlaneSum(xp, inner, 3, count),
                PlaneSum(xp, inner, 4, count), PlaneSum(xp, inner, 5, count), PlaneSum(xp, inner, 6, count), PlaneSum(xp, inner, 7, count));
            var m = s / n;
            Vector256<float> hi = Avx512F.ConvertToVector256Single(m);
            var hiD = Avx512F.ConvertToVector512Double(hi);
            Vector256<float> lo = Avx512F.ConvertToVector256Single(m - hiD);
            lo &= Vector256.Equals(hi - hi, Vector256<float>.Zero).AsSingle();   // hi not finite: lo = 0
            hi.Store(his);
            lo.Store(los);
            // Stage 2: the shifted moments Σ (x − m) and Σ (x − m)² per plane (BatchNormShortPlanes.Sums of ShiftedMoments).
            Vector512<double> a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6, a7, b7;
            Shifted(xp, inner, 0, count, his, los, out a0, out b0);
            Shifted(xp, inner, 1, count, his, los, out a1, out b1);
            Shifted(xp, inner, 2, count, his, los, out a2, out b2);
            Shifted(xp, inner, 3, count, his, los, out a3, out b3);
            Shifted(xp, inner, 4, count, his, los, out a4, out b4);
            Shifted(xp, inner, 5, count, his, los, out a5, out b5);
            Shifted(xp, inner, 6, count, his, los, out a6, out b6);
            Shifted(xp, inner, 7, count, his, los, out a7, out b7);
            var s1 = zero + Transposed(a0, a1, a2, a3, a4, a5, a6, a7);
            var s2 = zero + Transposed(b0, b1, b2, b3, b4, b5, b6, b7);
            // mean = hi + lo + s1 / inner, m2 = max(0, s2 − s1²/inner), then BatchNorm.Merge into (0, 0) with na = 0, nb = total = inner.
            var mb = (hiD + Avx512F.ConvertToVector512Double(lo)) + s1 / n;
            var d = s2 - (s1 * s1) / n;
            var m2b = Vector512.ConditionalSelect(Vector512.GreaterThan(d, zero) | ~Vector512.Equals(d, d), d, zero);   // Math.Max(0, d)
            var delta = mb - zero;
            var mean = zero + (delta * n) / n;
            var m2 = zero + (m2b + (delta * delta) * ((zero * n) / n));
            if (count == 8)
            {
                fixed (double* pm = &planeMean[p0], pv = &planeM2[p0])
                {
                    mean.Store(pm);
                    m2.Store(pv);
                }
            }
            else
            {
                mean.Store(means);
                m2.Store(m2s);
                for (int j = 0; j < count; j++)
                {
                    planeMean[p0 + j] = means[j];
                    planeM2[p0 + j] = m2s[j];
                }
            }
        }
    }

    // Plane j's BatchNormShortPlanes.Sum before its horizontal sum: Zero + the widened float sums (zero past count).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> PlaneSum(float* xp, int length, int j, int count)
    {
        if (j >= count) return Vector512<double>.Zero;
        float* x = xp + (long)j * length;
        Vector512<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            a0 += Vector512.Load(x + i);
            a1 += Vector512.Load(x + i + 16);
        }
        if (i < length) a0 += Vector512.Load(x + i);
        var (lo, hi) = Vector512.Widen(a0 + a1);
        return Vector512<double>.Zero + (lo + hi);
    }

    // Plane j's BatchNormShortPlanes.Sums of ShiftedMoments(his[j], los[j]) before the horizontal sums.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Shifted(float* xp, int length, int j, int count, float* his, float* los, out Vector512<double> sumA, out Vector512<double> sumB)
    {
        if (j >= count)
        {
            sumA = sumB = Vector512<double>.Zero;
            return;
        }
        float* x = xp + (long)j * length;
        var hi = Vector512.Create(his[j]);
        var lo = Vector512.Create(los[j]);
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            var d0 = (Vector512.Load(x + i) - hi) - lo;
            var d1 = (Vector512.Load(x + i + 16) - hi) - lo;
            a0 += d0; b0 += d0 * d0;
            a1 += d1; b1 += d1 * d1;
        }
        if (i < length)
        {
            var d0 = (Vector512.Load(x + i) - hi) - lo;
            a0 += d0; b0 += d0 * d0;
        }
        var (aLo, aHi) = Vector512.Widen(a0 + a1);
        var (bLo, bHi) = Vector512.Widen(b0 + b1);
        sumA = Vector512<double>.Zero + (aLo + aHi);
        sumB = Vector512<double>.Zero + (bLo + bHi);
    }

    /// <summary>
    /// r[j] = Vector512.Sum(vj) for eight vectors, in Sum's order: pairs (e0 + e1), (e2 + e3), ... first, then the pairs of
    /// pairs, then the two halves (IEEE addition is commutative, so only the grouping matters).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<double> Transposed(Vector512<double> v0, Vector512<double> v1, Vector512<double> v2, Vector512<double> v3,
        Vector512<double> v4, Vector512<double> v5, Vector512<double> v6, Vector512<double> v7)
    {
        // [a01, b01, a23, b23, a45, b45, a67, b67] for (a, b) = (v0, v1), and likewise.
        var t01 = Avx512F.UnpackLow(v0, v1) + Avx512F.UnpackHigh(v0, v1);
        var t23 = Avx512F.UnpackLow(v2, v3) + Avx512F.UnpackHigh(v2, v3);
        var t45 = Avx512F.UnpackLow(v4, v5) + Avx512F.UnpackHigh(v4, v5);
        var t67 = Avx512F.UnpackLow(v6, v7) + Avx512F.UnpackHigh(v6, v7);
        // [a0123, b0123, a4567, b4567, c0123, d0123, c4567, d4567] (128-bit lanes 0 and 2 plus lanes 1 and 3 of each).
        var w0 = Avx512F.Shuffle4x128(t01, t23, 0x88) + Avx512F.Shuffle4x128(t01, t23, 0xDD);
        var w1 = Avx512F.Shuffle4x128(t45, t67, 0x88) + Avx512F.Shuffle4x128(t45, t67, 0xDD);
        // [a, b, c, d, e, f, g, h]: the lower halves' sums plus the upper halves'.
        return Avx512F.Shuffle4x128(w0, w1, 0x88) + Avx512F.Shuffle4x128(w0, w1, 0xDD);
    }
}
