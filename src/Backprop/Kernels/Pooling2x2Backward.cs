using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Max pooling's input gradient for 2x2 windows at stride 2 without padding (VGG's pools), one plane at a time and
/// every input written once: dy of its window where the window's argmax is that input, else +0. The reference clears
/// dx and then adds each dy at its argmax (two passes over dx, the second a scalar scatter); the windows do not overlap,
/// so writing 0 + dy (−0 becomes +0, as there) or 0 gives its bits. Vectorised along an output row as
/// <see cref="Pooling2x2.AvgBackwardRow"/>: each corner's V values interleaved by widening into 64-bit lanes.
/// An argmax outside its window makes the plane fall back to the reference's clear-and-scatter.
/// </summary>
internal static unsafe class Pooling2x2Backward
{
    /// <summary>
    /// Writes every input of one plane; false (the plane partly written) when some argmax lies outside its window.
    /// Clipped windows (ceil mode) and the inputs no window covers (floor mode, odd sizes) are written too.
    /// </summary>
    // dy, arg: the (OH, OW) output plane; dx: the (H, W) input-gradient plane
    public static bool Plane(in Pool2dGeometry g, int width, float* dy, int* arg, float* dx)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        for (int i = 0; i < oh; i++)
        {
            int r0 = 2 * i, r1 = Math.Min(r0 + 2, h);
            float* gRow = dy + (long)i * ow;
            int* aRow = arg + (long)i * ow;
            int j = r1 == r0 + 2 ? Row(width, gRow, aRow, i, Math.Min(ow, w / 2), dx, w) : 0;
            if (j < 0) return false;
            for (; j < ow; j++)
            {
                int c0 = 2 * j, c1 = Math.Min(c0 + 2, w), at = aRow[j];
                if (at < 0 || at / w < r0 || at / w >= r1 || at % w < c0 || at % w >= c1) return false;
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dx[r * w + c] = r * w + c == at ? 0f + gRow[j] : 0f;
            }
            for (int r = r0; r < r1; r++)
                for (int c = Math.Min(2 * ow, w); c < w; c++) dx[r * w + c] = 0f;
        }
        new Span<float>(dx + (long)Math.Min(2 * oh, h) * w, (h - Math.Min(2 * oh, h)) * w).Clear();
        return true;
    }

    // Output row i's windows, columns [0, count), all whole: writes input rows 2i and 2i+1 there; returns the columns
    // done (a multiple of the vector width), or −1 when an argmax is outside its window.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Row(int width, float* dy, int* arg, int i, int count, float* dx, int w)
    {
        float* r0 = dx + (long)2 * i * w, r1 = r0 + w;
        int rowBase = 2 * i * w, j = 0;
        if (SimdWidth.Allows512(width))
        {
            Vector512<int> step = Vector512<int>.Indices * 2;
            for (; j + 16 <= count; j += 16)
            {
                Vector512<float> g = Vector512.Load(dy + j);
                Vector512<int> a = Vector512.Load(arg + j), ia = Vector512.Create(rowBase + 2 * j) + step;
                Vector512<int> h00 = Vector512.Equals(a, ia), h01 = Vector512.Equals(a, ia + Vector512<int>.One);
                Vector512<int> h10 = Vector512.Equals(a, ia + Vector512.Create(w)), h11 = Vector512.Equals(a, ia + Vector512.Create(w + 1));
                if (!Vector512.EqualsAll(h00 | h01 | h10 | h11, Vector512<int>.AllBitsSet)) return -1;
                Interleave(Pick(h00, g), Pick(h01, g), r0 + 2 * j);
                Interleave(Pick(h10, g), Pick(h11, g), r1 + 2 * j);
            }
        }
        if (SimdWidth.Allows256(width))
        {
            Vector256<int> step = Vector256<int>.Indices * 2;
            for (; j + 8 <= count; j += 8)
            {
                Vector256<float> g = Vector256.Load(dy + j);
                Vector256<int> a = Vector256.Load(arg + j), ia = Vector256.Create(rowBase + 2 * j) + step;
                Vector256<int> h00 = Vector256.Equals(a, ia), h01 = Vector256.Equals(a, ia + Vector256<int>.One);
                Vector256<int> h10 = Vector256.Equals(a, ia + Vector256.Create(w)), h11 = Vector256.Equals(a, ia + Vector256.Create(w + 1));
                if (!Vector256.EqualsAll(h00 | h01 | h10 | h11, Vector256<int>.AllBitsSet)) return -1;
                Interleave(Pick(h00, g), Pick(h01, g), r0 + 2 * j);
                Interleave(Pick(h10, g), Pick(h11, g), r1 + 2 * j);
            }
        }
        if (SimdWidth.Allows128(width))
        {
            Vector128<int> step = Vector128<int>.Indices * 2;
            for (; j + 4 <= count; j += 4)
            {
                Vector128<float> g = Vector128.Load(dy + j);
                Vector128<int> a = Vector128.Load(arg + j), ia = Vector128.Create(rowBase + 2 * j) + step;
                Vector128<int> h00 = Vector128.Equals(a, ia), h01 = Vector128.Equals(a, ia + Vector128<int>.One);
                Vector128<int> h10 = Vector128.Equals(a, ia + Vector128.Create(w)), h11 = Vector128.Equals(a, ia + Vector128.Create(w + 1));
                if (!Vector128.EqualsAll(h00 | h01 | h10 | h11, Vector128<int>.AllBitsSet)) return -1;
                Interleave(Pick(h00, g), Pick(h01, g), r0 + 2 * j);
                Interleave(Pick(h10, g), Pick(h11, g), r1 + 2 * j);
            }
        }
        return j;
    }

    // 0 + g where hit (the reference's add into a cleared dx), else +0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pick(Vector512<int> hit, Vector512<float> g) => Vector512.ConditionalSelect(hit.AsSingle(), g, Vector512<float>.Zero) + Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pick(Vector256<int> hit, Vector256<float> g) => Vector256.ConditionalSelect(hit.AsSingle(), g, Vector256<float>.Zero) + Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Pick(Vector128<int> hit, Vector128<float> g) => Vector128.ConditionalSelect(hit.AsSingle(), g, Vector128<float>.Zero) + Vector128<float>.Zero;

    // The V even-column values and V odd-column values as 2V consecutive floats at dst.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector512<float> even, Vector512<float> odd, float* dst)
    {
        var (e0, e1) = Vector512.Widen(even.AsUInt32());
        var (o0, o1) = Vector512.Widen(odd.AsUInt32());
        (e0 | (o0 << 32)).AsSingle().Store(dst);
        (e1 | (o1 << 32)).AsSingle().Store(dst + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector256<float> even, Vector256<float> odd, float* dst)
    {
        var (e0, e1) = Vector256.Widen(even.AsUInt32());
        var (o0, o1) = Vector256.Widen(odd.AsUInt32());
        (e0 | (o0 << 32)).AsSingle().Store(dst);
        (e1 | (o1 << 32)).AsSingle().Store(dst + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector128<float> even, Vector128<float> odd, float* dst)
    {
        var (e0, e1) = Vector128.Widen(even.AsUInt32());
        var (o0, o1) = Vector128.Widen(odd.AsUInt32());
        (e0 | (o0 << 32)).AsSingle().Store(dst);
        (e1 | (o1 << 32)).AsSingle().Store(dst + 4);
    }
}
