using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The common pooling window, 2x2 at stride 2 with no padding (LeNet, VGG), vectorised along an output
/// row: V outputs read 2V inputs from each of the two input rows; the even and odd columns are split by
/// narrowing 64-bit lanes (low half = even column, high half = odd column). Each call handles the full
/// windows at the start of one output row and returns how many outputs it wrote; <see cref="Pooling"/>
/// finishes the row (and any clipped window) with its general loop. Same results as
/// <see cref="PoolingReference"/>, bit for bit: max scans (r0,c0), (r0,c1), (r1,c0), (r1,c1) and keeps
/// the first maximum (a NaN wins and stays); average adds in that order from 0 and divides by 4.
/// </summary>
internal static unsafe class Pooling2x2
{
    /// <summary>True when every window is 2x2 at stride 2 with no padding.</summary>
    public static bool Applies(in Pool2dGeometry g) =>
        g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0;

    /// <summary>Max over the windows of output row i, columns [0, count); returns the columns done (a multiple of the vector width).</summary>
    // src: one (H, W) input plane; dst, arg: output row i
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int MaxRow(int width, float* src, int w, int i, int count, float* dst, int* arg)
    {
        float* r0 = src + (long)2 * i * w, r1 = r0 + w;
        int rowBase = 2 * i * w, j = 0;
        if (SimdWidth.Allows512(width))
        {
            Vector512<int> step = Vector512<int>.Indices * 2;
            for (; j + 16 <= count; j += 16)
            {
                Split(Vector512.Load(r0 + 2 * j), Vector512.Load(r0 + 2 * j + 16), out var a, out var b);
                Split(Vector512.Load(r1 + 2 * j), Vector512.Load(r1 + 2 * j + 16), out var c, out var d);
                Vector512<int> ia = Vector512.Create(rowBase + 2 * j) + step;
                Vector512<float> best = a;
                Vector512<int> idx = ia;
                Take(b, ia + Vector512<int>.One, ref best, ref idx);
                Take(c, ia + Vector512.Create(w), ref best, ref idx);
                Take(d, ia + Vector512.Create(w + 1), ref best, ref idx);
                best.Store(dst + j);
                idx.Store(arg + j);
            }
        }
        if (SimdWidth.Allows256(width))
        {
            Vector256<int> step = Vector256<int>.Indices * 2;
            for (; j + 8 <= count; j += 8)
            {
                Split(Vector256.Load(r0 + 2 * j), Vector256.Load(r0 + 2 * j + 8), out var a, out var b);
                Split(Vector256.Load(r1 + 2 * j), Vector256.Load(r1 + 2 * j + 8), out var c, out var d);
                Vector256<int> ia = Vector256.Create(rowBase + 2 * j) + step;
                Vector256<float> best = a;
                Vector256<int> idx = ia;
                Take(b, ia + Vector256<int>.One, ref best, ref idx);
                Take(c, ia + Vector256.Create(w), ref best, ref idx);
                Take(d, ia + Vector256.Create(w + 1), ref best, ref idx);
                best.Store(dst + j);
                idx.Store(arg + j);
            }
        }
        if (SimdWidth.Allows128(width))
        {
            Vector128<int> step = Vector128<int>.Indices * 2;
            for (; j + 4 <= count; j += 4)
            {
                Split(Vector128.Load(r0 + 2 * j), Vector128.Load(r0 + 2 * j + 4), out var a, out var b);
                Split(Vector128.Load(r1 + 2 * j), Vector128.Load(r1 + 2 * j + 4), out var c, out var d);
                Vector128<int> ia = Vector128.Create(rowBase + 2 * j) + step;
                Vector128<float> best = a;
                Vector128<int> idx = ia;
                Take(b, ia + Vector128<int>.One, ref best, ref idx);
                Take(c, ia + Vector128.Create(w), ref best, ref idx);
                Take(d, ia + Vector128.Create(w + 1), ref best, ref idx);
                best.Store(dst + j);
                idx.Store(arg + j);
            }
        }
        return j;
    }

    /// <summary><see cref="MaxRow"/>'s values without the argmax: the same candidates taken in the same order.</summary>
    // src: one (H, W) input plane; dst: output row i
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int MaxRowValues(int width, float* src, int w, int i, int count, float* dst)
    {
        float* r0 = src + (long)2 * i * w, r1 = r0 + w;
        int j = 0;
        if (SimdWidth.Allows512(width))
        {
            for (; j + 16 <= count; j += 16)
            {
                Split(Vector512.Load(r0 + 2 * j), Vector512.Load(r0 + 2 * j + 16), out var a, out var b);
                Split(Vector512.Load(r1 + 2 * j), Vector512.Load(r1 + 2 * j + 16), out var c, out var d);
                Take(b, ref a);
                Take(c, ref a);
                Take(d, ref a);
                a.Store(dst + j);
            }
        }
        if (SimdWidth.Allows256(width))
        {
            for (; j + 8 <= count; j += 8)
            {
                Split(Vector256.Load(r0 + 2 * j), Vector256.Load(r0 + 2 * j + 8), out var a, out var b);
                Split(Vector256.Load(r1 + 2 * j), Vector256.Load(r1 + 2 * j + 8), out var c, out var d);
                Take(b, ref a);
                Take(c, ref a);
                Take(d, ref a);
                a.Store(dst + j);
            }
        }
        if (SimdWidth.Allows128(width))
        {
            for (; j + 4 <= count; j += 4)
            {
                Split(Vector128.Load(r0 + 2 * j), Vector128.Load(r0 + 2 * j + 4), out var a, out var b);
                Split(Vector128.Load(r1 + 2 * j), Vector128.Load(r1 + 2 * j + 4), out var c, out var d);
                Take(b, ref a);
                Take(c, ref a);
                Take(d, ref a);
                a.Store(dst + j);
            }
        }
        return j;
    }

    /// <summary>
    /// True when the planes are 8 wide (LeNet's second pooling, 8x8 to 4x4): a row of 4 outputs is too short for
    /// a vector, so <see cref="MaxPlane8"/> and <see cref="MaxBackwardPlane8"/> take two output rows (the four
    /// input rows, 32 floats) per step and pick each window corner out of them with a two-vector permute.
    /// </summary>
    public static bool AppliesToWidth8(in Pool2dGeometry g, int width) =>
        SimdWidth.AllowsAvx512F(width) && Applies(g) && g.InWidth == 8 && g.OutWidth == 4;

    // Output rows i and i+1 of an 8-wide plane read rows 2i .. 2i+3, loaded as a (rows 2i, 2i+1) and b (rows
    // 2i+2, 2i+3). Lane L of a:b is plane index 16i + L; the top-left corners of the 8 windows are these lanes.
    private static Vector512<int> TopLeftLanes => Vector512.Create(0, 2, 4, 6, 16, 18, 20, 22, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Max over the windows of output rows [0, outRows) in pairs of an 8-wide plane; returns the rows done (even).</summary>
    // src: one (H, 8) input plane; dst, arg: the (OH, 4) output plane
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int MaxPlane8(float* src, int outRows, float* dst, int* arg)
    {
        Vector512<int> c00 = TopLeftLanes, c01 = c00 + Vector512<int>.One, c10 = c00 + Vector512.Create(8), c11 = c00 + Vector512.Create(9);
        int i = 0;
        for (; i + 2 <= outRows; i += 2)
        {
            Vector512<float> a = Vector512.Load(src + 16 * i), b = Vector512.Load(src + 16 * i + 16);
            Vector256<int> at = Vector256.Create(16 * i);
            Vector256<float> best = Avx512F.PermuteVar16x32x2(a, c00, b).GetLower();
            Vector256<int> idx = at + c00.GetLower();
            Take(Avx512F.PermuteVar16x32x2(a, c01, b).GetLower(), at + c01.GetLower(), ref best, ref idx);
            Take(Avx512F.PermuteVar16x32x2(a, c10, b).GetLower(), at + c10.GetLower(), ref best, ref idx);
            Take(Avx512F.PermuteVar16x32x2(a, c11, b).GetLower(), at + c11.GetLower(), ref best, ref idx);
            best.Store(dst + 4 * i);
            idx.Store(arg + 4 * i);
        }
        return i;
    }

    /// <summary>
    /// One 8-wide plane's input gradient, every input written: dy of its window where the window's argmax is that
    /// input, else +0 (as the reference's clear-then-add). Needs H = 2*OH with OH even. Returns false when some
    /// argmax lies outside its window; the caller then clears and scatters the plane as the reference does.
    /// </summary>
    // dy, arg: the (OH, 4) output plane; dx: the (2*OH, 8) input-gradient plane
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool MaxBackwardPlane8(float* dy, int* arg, int outRows, float* dx)
    {
        // Lane L of a:b belongs to output lane (L / 16) * 4 + (L % 8) / 2 of the pair's 8 outputs.
        Vector512<int> fromTop = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3), fromBottom = fromTop + Vector512.Create(4);
        Vector512<int> lanes = Vector512<int>.Indices;
        for (int i = 0; i + 2 <= outRows; i += 2)
        {
            Vector512<float> g = Vector256.Load(dy + 4 * i).ToVector512Unsafe();
            Vector512<int> w = Vector256.Load(arg + 4 * i).ToVector512Unsafe();
            Vector512<int> at = Vector512.Create(16 * i) + lanes;
            Vector512<int> hitA = Vector512.Equals(Avx512F.PermuteVar16x32(w, fromTop), at);
            Vector512<int> hitB = Vector512.Equals(Avx512F.PermuteVar16x32(w, fromBottom), at + Vector512.Create(16));
            if (System.Numerics.BitOperations.PopCount(hitA.ExtractMostSignificantBits() | hitB.ExtractMostSignificantBits() << 16) != 8) return false;
            (Vector512.ConditionalSelect(hitA.AsSingle(), Avx512F.PermuteVar16x32(g, fromTop), Vector512<float>.Zero) + Vector512<float>.Zero).Store(dx + 16 * i);
            (Vector512.ConditionalSelect(hitB.AsSingle(), Avx512F.PermuteVar16x32(g, fromBottom), Vector512<float>.Zero) + Vector512<float>.Zero).Store(dx + 16 * i + 16);
        }
        return true;
    }

    /// <summary>Average over the windows of output row i, columns [0, count); returns the columns done.</summary>
    // src: one (H, W) input plane; dst: output row i
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int AvgRow(int width, float* src, int w, int i, int count, float* dst)
    {
        float* r0 = src + (long)2 * i * w, r1 = r0 + w;
        int j = 0;
        if (SimdWidth.Allows512(width))
        {
            for (; j + 16 <= count; j += 16)
            {
                Split(Vector512.Load(r0 + 2 * j), Vector512.Load(r0 + 2 * j + 16), out var a, out var b);
                Split(Vector512.Load(r1 + 2 * j), Vector512.Load(r1 + 2 * j + 16), out var c, out var d);
                ((Vector512<float>.Zero + a + b + c + d) / Vector512.Create(4f)).Store(dst + j);
            }
        }
        if (SimdWidth.Allows256(width))
        {
            for (; j + 8 <= count; j += 8)
            {
                Split(Vector256.Load(r0 + 2 * j), Vector256.Load(r0 + 2 * j + 8), out var a, out var b);
                Split(Vector256.Load(r1 + 2 * j), Vector256.Load(r1 + 2 * j + 8), out var c, out var d);
                ((Vector256<float>.Zero + a + b + c + d) / Vector256.Create(4f)).Store(dst + j);
            }
        }
        if (SimdWidth.Allows128(width))
        {
            for (; j + 4 <= count; j += 4)
            {
                Split(Vector128.Load(r0 + 2 * j), Vector128.Load(r0 + 2 * j + 4), out var a, out var b);
                Split(Vector128.Load(r1 + 2 * j), Vector128.Load(r1 + 2 * j + 4), out var c, out var d);
                ((Vector128<float>.Zero + a + b + c + d) / Vector128.Create(4f)).Store(dst + j);
            }
        }
        return j;
    }

    /// <summary>
    /// Writes dy/4 to the four inputs of each window of output row i, columns [0, count) (the windows are
    /// disjoint, so writing equals adding into a cleared dx); returns the columns done.
    /// </summary>
    // dy: output row i; dx: one (H, W) input-gradient plane
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int AvgBackwardRow(int width, float* dy, int i, int count, float* dx, int w)
    {
        float* r0 = dx + (long)2 * i * w, r1 = r0 + w;
        int j = 0;
        if (SimdWidth.Allows512(width))
        {
            for (; j + 16 <= count; j += 16)
            {
                var share = Vector512<float>.Zero + Vector512.Load(dy + j) / Vector512.Create(4f);
                (var lo, var hi) = Vector512.Widen(share.AsUInt32());
                var even = (lo | (lo << 32)).AsSingle();
                var odd = (hi | (hi << 32)).AsSingle();
                even.Store(r0 + 2 * j); odd.Store(r0 + 2 * j + 16);
                even.Store(r1 + 2 * j); odd.Store(r1 + 2 * j + 16);
            }
        }
        if (SimdWidth.Allows256(width))
        {
            for (; j + 8 <= count; j += 8)
            {
                var share = Vector256<float>.Zero + Vector256.Load(dy + j) / Vector256.Create(4f);
                (var lo, var hi) = Vector256.Widen(share.AsUInt32());
                var even = (lo | (lo << 32)).AsSingle();
                var odd = (hi | (hi << 32)).AsSingle();
                even.Store(r0 + 2 * j); odd.Store(r0 + 2 * j + 8);
                even.Store(r1 + 2 * j); odd.Store(r1 + 2 * j + 8);
            }
        }
        if (SimdWidth.Allows128(width))
        {
            for (; j + 4 <= count; j += 4)
            {
                var share = Vector128<float>.Zero + Vector128.Load(dy + j) / Vector128.Create(4f);
                (var lo, var hi) = Vector128.Widen(share.AsUInt32());
                var even = (lo | (lo << 32)).AsSingle();
                var odd = (hi | (hi << 32)).AsSingle();
                even.Store(r0 + 2 * j); odd.Store(r0 + 2 * j + 4);
                even.Store(r1 + 2 * j); odd.Store(r1 + 2 * j + 4);
            }
        }
        return j;
    }

    // Two vectors of 2V consecutive floats -> the V even-indexed ones and the V odd-indexed ones.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector512<float> lo, Vector512<float> hi, out Vector512<float> even, out Vector512<float> odd)
    {
        even = Vector512.Narrow(lo.AsUInt64(), hi.AsUInt64()).AsSingle();
        odd = Vector512.Narrow(lo.AsUInt64() >>> 32, hi.AsUInt64() >>> 32).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector256<float> lo, Vector256<float> hi, out Vector256<float> even, out Vector256<float> odd)
    {
        even = Vector256.Narrow(lo.AsUInt64(), hi.AsUInt64()).AsSingle();
        odd = Vector256.Narrow(lo.AsUInt64() >>> 32, hi.AsUInt64() >>> 32).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector128<float> lo, Vector128<float> hi, out Vector128<float> even, out Vector128<float> odd)
    {
        even = Vector128.Narrow(lo.AsUInt64(), hi.AsUInt64()).AsSingle();
        odd = Vector128.Narrow(lo.AsUInt64() >>> 32, hi.AsUInt64() >>> 32).AsSingle();
    }

    // The next candidate x replaces the best so far when greater, or when it is the first NaN (Take without the index).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> x, ref Vector512<float> best) =>
        best = Vector512.ConditionalSelect(Vector512.GreaterThan(x, best) | (~Vector512.Equals(x, x) & Vector512.Equals(best, best)), x, best);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector256<float> x, ref Vector256<float> best) =>
        best = Vector256.ConditionalSelect(Vector256.GreaterThan(x, best) | (~Vector256.Equals(x, x) & Vector256.Equals(best, best)), x, best);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector128<float> x, ref Vector128<float> best) =>
        best = Vector128.ConditionalSelect(Vector128.GreaterThan(x, best) | (~Vector128.Equals(x, x) & Vector128.Equals(best, best)), x, best);

    // The next candidate x (flat input index xi) replaces the best so far when greater, or when it is the first NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> x, Vector512<int> xi, ref Vector512<float> best, ref Vector512<int> idx)
    {
        var take = Vector512.GreaterThan(x, best) | (~Vector512.Equals(x, x) & Vector512.Equals(best, best));
        best = Vector512.ConditionalSelect(take, x, best);
        idx = Vector512.ConditionalSelect(take.AsInt32(), xi, idx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector256<float> x, Vector256<int> xi, ref Vector256<float> best, ref Vector256<int> idx)
    {
        var take = Vector256.GreaterThan(x, best) | (~Vector256.Equals(x, x) & Vector256.Equals(best, best));
        best = Vector256.ConditionalSelect(take, x, best);
        idx = Vector256.ConditionalSelect(take.AsInt32(), xi, idx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector128<float> x, Vector128<int> xi, ref Vector128<float> best, ref Vector128<int> idx)
    {
        var take = Vector128.GreaterThan(x, best) | (~Vector128.Equals(x, x) & Vector128.Equals(best, best));
        best = Vector128.ConditionalSelect(take, x, best);
        idx = Vector128.ConditionalSelect(take.AsInt32(), xi, idx);
    }
}
