using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>The two per-element terms a batch-norm reduction adds up, at every SIMD width and in scalar code.</summary>
internal interface IPairTerms
{
    float A(float x, float g);
    float B(float x, float g);
    Vector512<float> A(Vector512<float> x, Vector512<float> g);
    Vector512<float> B(Vector512<float> x, Vector512<float> g);
    Vector256<float> A(Vector256<float> x, Vector256<float> g);
    Vector256<float> B(Vector256<float> x, Vector256<float> g);
    Vector128<float> A(Vector128<float> x, Vector128<float> g);
    Vector128<float> B(Vector128<float> x, Vector128<float> g);
}

/// <summary>
/// Σ A(x, g) and Σ B(x, g) over one contiguous run, at the widest width <see cref="SimdWidth.Max"/> allows.
/// Float vector partial sums cover at most <see cref="Block"/> elements (a few dozen per lane) before they are
/// widened into double accumulators, so the result is as accurate as a double sum of the float terms to within a
/// few float roundings per block; the order of additions depends only on the length and the width.
/// </summary>
internal static unsafe class BatchNormSums
{
    private const int Block = 1024;

    // x, g: (length); g may equal x when the terms ignore it
    public static void Sums<T>(T terms, float* x, float* g, int length, out double sumA, out double sumB) where T : struct, IPairTerms
        => SumsFrom(terms, x, new LoadedGradient(g), length, out sumA, out sumB);

    // g[i..] from its source, at every width; the sums' order and terms do not depend on the source.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumsFrom<T, TG>(T terms, float* x, TG g, int length, out double sumA, out double sumB)
        where T : struct, IPairTerms where TG : struct, IGradientSource
    {
        double a = 0, b = 0;
        int i = 0, width = SimdWidth.Max;
        if (SimdWidth.Allows512(width) && length >= 16)
        {
            Vector512<double> da = default, db = default;
            while (i + 16 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
                for (; i + 32 <= end; i += 32)
                {
                    Vector512<float> x0 = Vector512.Load(x + i), x1 = Vector512.Load(x + i + 16);
                    Vector512<float> g0 = g.Load512(i), g1 = g.Load512(i + 16);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                    a1 += terms.A(x1, g1); b1 += terms.B(x1, g1);
                }
                for (; i + 16 <= end; i += 16)
                {
                    Vector512<float> x0 = Vector512.Load(x + i), g0 = g.Load512(i);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                }
                var (aLo, aHi) = Vector512.Widen(a0 + a1);
                var (bLo, bHi) = Vector512.Widen(b0 + b1);
                da += aLo + aHi;
                db += bLo + bHi;
            }
            a += Vector512.Sum(da);
            b += Vector512.Sum(db);
        }
        if (SimdWidth.Allows256(width) && length - i >= 8)
        {
            Vector256<double> da = default, db = default;
            while (i + 8 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
                for (; i + 16 <= end; i += 16)
                {
                    Vector256<float> x0 = Vector256.Load(x + i), x1 = Vector256.Load(x + i + 8);
                    Vector256<float> g0 = g.Load256(i), g1 = g.Load256(i + 8);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                    a1 += terms.A(x1, g1); b1 += terms.B(x1, g1);
                }
                for (; i + 8 <= end; i += 8)
                {
                    Vector256<float> x0 = Vector256.Load(x + i), g0 = g.Load256(i);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                }
                var (aLo, aHi) = Vector256.Widen(a0 + a1);
                var (bLo, bHi) = Vector256.Widen(b0 + b1);
                da += aLo + aHi;
                db += bLo + bHi;
            }
            a += Vector256.Sum(da);
            b += Vector256.Sum(db);
        }
        if (SimdWidth.Allows128(width) && length - i >= 4)
        {
            Vector128<double> da = default, db = default;
            while (i + 4 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector128<float> a0 = default, a1 = default, b0 = default, b1 = default;
                for (; i + 8 <= end; i += 8)
                {
                    Vector128<float> x0 = Vector128.Load(x + i), x1 = Vector128.Load(x + i + 4);
                    Vector128<float> g0 = g.Load128(i), g1 = g.Load128(i + 4);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                    a1 += terms.A(x1, g1); b1 += terms.B(x1, g1);
                }
                for (; i + 4 <= end; i += 4)
                {
                    Vector128<float> x0 = Vector128.Load(x + i), g0 = g.Load128(i);
                    a0 += terms.A(x0, g0); b0 += terms.B(x0, g0);
                }
                var (aLo, aHi) = Vector128.Widen(a0 + a1);
                var (bLo, bHi) = Vector128.Widen(b0 + b1);
                da += aLo + aHi;
                db += bLo + bHi;
            }
            a += Vector128.Sum(da);
            b += Vector128.Sum(db);
        }
        for (; i < length; i++)
        {
            float gi = g.Load(i);
            a += terms.A(x[i], gi);
            b += terms.B(x[i], gi);
        }
        sumA = a;
        sumB = b;
    }

    /// <summary>
    /// Σ x over one run: <see cref="Sums"/>' A with the shift 0 (x − 0 − 0 is x) in the same order, so the same bits,
    /// without its B, one vector load per step instead of two, and no terms computed for nothing.
    /// </summary>
    // x: (length)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(float* x, int length)
    {
        double a = 0;
        int i = 0, width = SimdWidth.Max;
        if (SimdWidth.Allows512(width) && length >= 16)
        {
            Vector512<double> da = default;
            while (i + 16 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector512<float> a0 = default, a1 = default;
                for (; i + 32 <= end; i += 32)
                {
                    a0 += Vector512.Load(x + i);
                    a1 += Vector512.Load(x + i + 16);
                }
                for (; i + 16 <= end; i += 16) a0 += Vector512.Load(x + i);
                var (aLo, aHi) = Vector512.Widen(a0 + a1);
                da += aLo + aHi;
            }
            a += Vector512.Sum(da);
        }
        if (SimdWidth.Allows256(width) && length - i >= 8)
        {
            Vector256<double> da = default;
            while (i + 8 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector256<float> a0 = default, a1 = default;
                for (; i + 16 <= end; i += 16)
                {
                    a0 += Vector256.Load(x + i);
                    a1 += Vector256.Load(x + i + 8);
                }
                for (; i + 8 <= end; i += 8) a0 += Vector256.Load(x + i);
                var (aLo, aHi) = Vector256.Widen(a0 + a1);
                da += aLo + aHi;
            }
            a += Vector256.Sum(da);
        }
        if (SimdWidth.Allows128(width) && length - i >= 4)
        {
            Vector128<double> da = default;
            while (i + 4 <= length)
            {
                int end = Math.Min(length, i + Block);
                Vector128<float> a0 = default, a1 = default;
                for (; i + 8 <= end; i += 8)
                {
                    a0 += Vector128.Load(x + i);
                    a1 += Vector128.Load(x + i + 4);
                }
                for (; i + 4 <= end; i += 4) a0 += Vector128.Load(x + i);
                var (aLo, aHi) = Vector128.Widen(a0 + a1);
                da += aLo + aHi;
            }
            a += Vector128.Sum(da);
        }
        for (; i < length; i++) a += x[i];
        return a;
    }
}

/// <summary>
/// A = x − m, B = (x − m)² with the shift m = hi + lo split into two floats: (x − hi) is exact near the mean and
/// lo carries the rest, so a large mean (1e4) with a small spread loses nothing to the shift.
/// </summary>
internal readonly struct ShiftedMoments(float hi, float lo) : IPairTerms
{
    public float A(float x, float g) => (x - hi) - lo;
    public float B(float x, float g) { float d = (x - hi) - lo; return d * d; }
    public Vector512<float> A(Vector512<float> x, Vector512<float> g) => (x - Vector512.Create(hi)) - Vector512.Create(lo);
    public Vector512<float> B(Vector512<float> x, Vector512<float> g) { var d = (x - Vector512.Create(hi)) - Vector512.Create(lo); return d * d; }
    public Vector256<float> A(Vector256<float> x, Vector256<float> g) => (x - Vector256.Create(hi)) - Vector256.Create(lo);
    public Vector256<float> B(Vector256<float> x, Vector256<float> g) { var d = (x - Vector256.Create(hi)) - Vector256.Create(lo); return d * d; }
    public Vector128<float> A(Vector128<float> x, Vector128<float> g) => (x - Vector128.Create(hi)) - Vector128.Create(lo);
    public Vector128<float> B(Vector128<float> x, Vector128<float> g) { var d = (x - Vector128.Create(hi)) - Vector128.Create(lo); return d * d; }
}

/// <summary>A = g, B = g·(x − m) with m split as in <see cref="ShiftedMoments"/>.</summary>
internal readonly struct GradientMoments(float hi, float lo) : IPairTerms
{
    public float A(float x, float g) => g;
    public float B(float x, float g) => g * ((x - hi) - lo);
    public Vector512<float> A(Vector512<float> x, Vector512<float> g) => g;
    public Vector512<float> B(Vector512<float> x, Vector512<float> g) => g * ((x - Vector512.Create(hi)) - Vector512.Create(lo));
    public Vector256<float> A(Vector256<float> x, Vector256<float> g) => g;
    public Vector256<float> B(Vector256<float> x, Vector256<float> g) => g * ((x - Vector256.Create(hi)) - Vector256.Create(lo));
    public Vector128<float> A(Vector128<float> x, Vector128<float> g) => g;
    public Vector128<float> B(Vector128<float> x, Vector128<float> g) => g * ((x - Vector128.Create(hi)) - Vector128.Create(lo));
}

/// <summary><see cref="GradientMoments"/> of g masked where the fused forward's relu output was not positive.</summary>
internal readonly struct ReluMaskedGradientMoments(BatchNorm.NormalizeOp op) : IPairTerms
{
    public float A(float x, float g) => op.Mask(x, g);
    public float B(float x, float g) => op.Mask(x, g) * op.Centred(x);
    public Vector512<float> A(Vector512<float> x, Vector512<float> g) => op.Mask(x, g);
    public Vector512<float> B(Vector512<float> x, Vector512<float> g) => op.Mask(x, g) * op.Centred(x);
    public Vector256<float> A(Vector256<float> x, Vector256<float> g) => op.Mask(x, g);
    public Vector256<float> B(Vector256<float> x, Vector256<float> g) => op.Mask(x, g) * op.Centred(x);
    public Vector128<float> A(Vector128<float> x, Vector128<float> g) => op.Mask(x, g);
    public Vector128<float> B(Vector128<float> x, Vector128<float> g) => op.Mask(x, g) * op.Centred(x);
}

/// <summary>Where <see cref="BatchNormSums"/> reads the gradient g from: the element or vector at an index.</summary>
internal interface IGradientSource
{
    float Load(int i);
    Vector512<float> Load512(int i);
    Vector256<float> Load256(int i);
    Vector128<float> Load128(int i);
}

/// <summary>g read from memory as it is.</summary>
internal readonly unsafe struct LoadedGradient(float* g) : IGradientSource
{
    public float Load(int i) => g[i];
    public Vector512<float> Load512(int i) => Vector512.Load(g + i);
    public Vector256<float> Load256(int i) => Vector256.Load(g + i);
    public Vector128<float> Load128(int i) => Vector128.Load(g + i);
}

